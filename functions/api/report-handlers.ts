import {
  deadlinesCsv,
  erasuresCsv,
  failuresCsv,
  holdsCsv,
  upcomingCsv,
  upcomingDays,
} from '../../domain/reports/index.js';
import type { ServiceDeps } from '../services/deps.js';
import {
  deadlinesReport,
  erasuresReport,
  failuresReport,
  holdsReport,
  type ReportDeps,
  upcomingReport,
} from '../services/reports.js';
import { wants } from './request-params.js';
import type { ApiRequest, ApiResponse, RouteHandler } from './router.js';
import { ErasuresReportParams, parseQuery, ReportParams, UpcomingReportParams } from './schemas.js';

/** The report's JSON, or its CSV (`format=csv`, or Accept: text/csv) as `<name>.csv`. */
const answer = <Report>(
  request: ApiRequest,
  format: string | undefined,
  name: string,
  report: Report,
  csv: (report: Report) => string,
): ApiResponse =>
  wants(request, format, 'csv', 'text/csv')
    ? {
        statusCode: 200,
        content: {
          contentType: 'text/csv; charset=utf-8; header=present',
          headers: { 'content-disposition': `attachment; filename="${name}.csv"` },
          // A report is a bounded answer (what is open, held, failed, counted or due): made whole.
          produce: async function* () {
            yield csv(report);
            return undefined;
          },
        },
      }
    : { statusCode: 200, body: report };

/** `GET /v1/reports/*` (compliance). Every query is checked before anything is read. */
export const reportHandlers = (deps: ServiceDeps): Record<string, RouteHandler> => {
  const reportDeps = (): ReportDeps => {
    // Only a composition without the report reads (a function that serves no report) lacks them.
    if (deps.reports === undefined) throw new Error('This function has no report store');
    return { ...deps, reports: deps.reports };
  };
  return {
    'GET /v1/reports/deadlines': async (request) => {
      const query = parseQuery(ReportParams, request.query);
      const report = await deadlinesReport(reportDeps());
      return answer(request, query.format, 'deadlines', report, (r) => deadlinesCsv(r.requests));
    },
    'GET /v1/reports/holds': async (request) => {
      const query = parseQuery(ReportParams, request.query);
      const report = await holdsReport(reportDeps());
      return answer(request, query.format, 'holds', report, (r) => holdsCsv(r.holds));
    },
    'GET /v1/reports/failures': async (request) => {
      const query = parseQuery(ReportParams, request.query);
      const report = await failuresReport(reportDeps());
      return answer(request, query.format, 'failures', report, (r) => failuresCsv(r.requests));
    },
    'GET /v1/reports/erasures': async (request) => {
      const query = parseQuery(ErasuresReportParams, request.query);
      const report = await erasuresReport(reportDeps(), {
        ...(query.from === undefined ? {} : { from: query.from }),
        ...(query.to === undefined ? {} : { to: query.to }),
      });
      return answer(request, query.format, 'erasures', report, (r) => erasuresCsv(r.rows));
    },
    'GET /v1/reports/upcoming': async (request) => {
      const query = parseQuery(UpcomingReportParams, request.query);
      const report = await upcomingReport(reportDeps(), upcomingDays(query.days));
      return answer(request, query.format, 'upcoming', report, (r) => upcomingCsv(r.rows));
    },
  };
};
