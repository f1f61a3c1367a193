import { type CertificateDeps, issueCertificate } from '../services/certificates.js';
import { renderCertificatePdf } from './certificate-pdf.js';
import { pathParam, wants } from './request-params.js';
import type { RouteHandler } from './router.js';
import { CertificateParams, parseQuery } from './schemas.js';
import type { Certificate } from './types.js';

/**
 * The routes `servedBy: 'certificate'` (functions/shared/routes.ts). Only functions/render-certificate.ts
 * imports this module: the PDF renderer stays out of the API's bundle.
 */
export const certificateRouteHandlers = (deps: CertificateDeps): Record<string, RouteHandler> => ({
  'GET /v1/erasure-requests/{requestId}/certificate': async (request) => {
    const query = parseQuery(CertificateParams, request.query);
    const certificate = await issueCertificate(deps, pathParam(request, 'requestId'));
    if (!wants(request, query.format, 'pdf', 'application/pdf')) {
      return { statusCode: 200, body: certificate satisfies Certificate };
    }
    return {
      statusCode: 200,
      content: {
        contentType: 'application/pdf',
        headers: {
          'content-disposition': `attachment; filename="certificate-${certificate.requestId}.pdf"`,
        },
        bytes: await renderCertificatePdf(certificate),
      },
    };
  },
});
