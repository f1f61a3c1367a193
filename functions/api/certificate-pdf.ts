/**
 * The certificate of erasure as a PDF an auditor can file: the same facts as the signed JSON
 * certificate (domain/audit/certificate.ts), laid out for people, with how to verify it. The PDF
 * is a rendering, not the proof: the signed JSON travels inside it as an attachment
 * (`certificate.json`), and its SHA-256 is printed, so the paper copy names the document that
 * `erasure verify-certificate` checks.
 *
 * Drawn with three of the 14 standard PDF fonts by a small writer of our own (pdf-writer.ts):
 * nothing is read from disk, and the certificate function's bundle stays small.
 */
import { createHash } from 'node:crypto';
import type { Certificate } from '../../domain/audit/certificate.js';
import { type Color, FONTS, PdfDocument, type PdfFont, type PdfPage, rgb, winAnsi } from './pdf-writer.js';

const PAGE = { width: 595.28, height: 841.89 } as const; // A4, in points
const MARGIN = 56;
const WIDTH = PAGE.width - 2 * MARGIN;
const LABEL_WIDTH = 130;
const INK = rgb(0.1, 0.1, 0.12);
const MUTED = rgb(0.38, 0.4, 0.45);
const RULE = rgb(0.78, 0.8, 0.84);

/**
 * The standard fonts encode WinAnsi only; anything else (a data class in another script) is
 * shown as `?` rather than failing the whole certificate. The attached JSON keeps it exactly.
 */
const printable = winAnsi;

interface Fonts {
  readonly regular: PdfFont;
  readonly bold: PdfFont;
  readonly mono: PdfFont;
}

/** Writes top to bottom, wrapping lines and starting a new page when one is full. */
class Layout {
  private page: PdfPage;
  private y: number;
  readonly pages: PdfPage[] = [];

  constructor(
    private readonly document: PdfDocument,
    readonly fonts: Fonts,
  ) {
    this.page = this.addPage();
    this.y = PAGE.height - MARGIN;
  }

  private addPage(): PdfPage {
    const page = this.document.addPage(PAGE.width, PAGE.height);
    this.pages.push(page);
    return page;
  }

  private room(height: number): void {
    if (this.y - height >= MARGIN + 24) return;
    this.page = this.addPage();
    this.y = PAGE.height - MARGIN;
  }

  /** Starts a new page unless `height` fits on this one: a block that must not be split. */
  keep(height: number): void {
    this.room(height);
  }

  /** Splits `text` into lines no wider than `width`; long unbroken tokens (hashes) are cut. */
  wrap(text: string, font: PdfFont, size: number, width: number): string[] {
    const lines: string[] = [];
    let line = '';
    const fits = (candidate: string) => font.widthOfTextAtSize(candidate, size) <= width;
    for (const word of printable(text).split(' ')) {
      const candidate = line === '' ? word : `${line} ${word}`;
      if (fits(candidate)) {
        line = candidate;
        continue;
      }
      if (line !== '') lines.push(line);
      line = '';
      let rest = word;
      while (!fits(rest)) {
        let cut = rest.length - 1;
        while (cut > 1 && !fits(rest.slice(0, cut))) cut--;
        lines.push(rest.slice(0, cut));
        rest = rest.slice(cut);
      }
      line = rest;
    }
    if (line !== '') lines.push(line);
    return lines.length === 0 ? [''] : lines;
  }

  text(text: string, options: { font?: PdfFont; size?: number; color?: Color; indent?: number } = {}): void {
    const font = options.font ?? this.fonts.regular;
    const size = options.size ?? 9.5;
    const indent = options.indent ?? 0;
    for (const line of this.wrap(text, font, size, WIDTH - indent)) {
      this.room(size * 1.35);
      this.page.drawText(line, {
        x: MARGIN + indent,
        y: this.y - size,
        size,
        font,
        color: options.color ?? INK,
      });
      this.y -= size * 1.35;
    }
  }

  /** The height `text` takes (as `text` draws it, 9.5 points). */
  textHeight(text: string, indent = 0): number {
    const size = 9.5;
    return this.wrap(text, this.fonts.regular, size, WIDTH - indent).length * size * 1.35;
  }

  /** A label in the left column and its value, wrapped, in the right. */
  field(label: string, value: string, mono = false): void {
    const size = mono ? 8.5 : 9.5;
    const font = mono ? this.fonts.mono : this.fonts.regular;
    const lines = this.wrap(value, font, size, WIDTH - LABEL_WIDTH);
    this.room(lines.length * 13);
    this.page.drawText(printable(label), {
      x: MARGIN,
      y: this.y - 9.5,
      size: 9.5,
      font: this.fonts.bold,
      color: MUTED,
    });
    // Every value line sits on the label's baseline (a smaller mono size too), so the label and
    // its value read as one line, also to text extraction.
    for (const line of lines) {
      this.page.drawText(line, { x: MARGIN + LABEL_WIDTH, y: this.y - 9.5, size, font, color: INK });
      this.y -= 13;
    }
    this.y -= 2;
  }

  heading(text: string): void {
    // The heading (37 points) and at least two lines of what it heads.
    this.room(37 + 30);
    this.y -= 12;
    this.page.drawText(printable(text), {
      x: MARGIN,
      y: this.y - 12,
      size: 12,
      font: this.fonts.bold,
      color: INK,
    });
    this.y -= 17;
    this.page.drawLine({
      start: { x: MARGIN, y: this.y },
      end: { x: MARGIN + WIDTH, y: this.y },
      thickness: 0.6,
      color: RULE,
    });
    this.y -= 8;
  }

  gap(points: number): void {
    this.y -= points;
  }

  /** Page n of m and the request id at the foot of every page, once all pages exist. */
  footers(requestId: string): void {
    this.pages.forEach((page, index) => {
      const text = printable(
        `Certificate of erasure - request ${requestId} - page ${index + 1} of ${this.pages.length}`,
      );
      page.drawText(text, { x: MARGIN, y: MARGIN - 18, size: 8, font: this.fonts.regular, color: MUTED });
    });
  }
}

/** The certificate's JSON as the PDF attaches it (indented; the signature covers its canonical form). */
export const certificateJsonOf = (certificate: Certificate): string =>
  `${JSON.stringify(certificate, null, 2)}\n`;

/** The PDF of a certificate: deterministic for one certificate (dates are its `issuedAt`). */
export const renderCertificatePdf = async (certificate: Certificate): Promise<Uint8Array> => {
  const issued = new Date(certificate.issuedAt);
  const document = new PdfDocument({
    title: `Certificate of erasure - ${certificate.requestId}`,
    subject: 'Certificate of erasure (GDPR Art. 17) with its audit trail proof',
    producer: 'Erasure Orchestrator',
    creator: 'Erasure Orchestrator',
    date: issued,
  });
  const json = certificateJsonOf(certificate);
  const jsonSha256 = createHash('sha256').update(json, 'utf8').digest('hex');
  document.attach({
    bytes: Buffer.from(json, 'utf8'),
    name: 'certificate.json',
    mimeType: 'application/json',
    description: 'The signed certificate of erasure: check it with erasure verify-certificate',
    date: issued,
  });
  const fonts: Fonts = { regular: FONTS.helvetica, bold: FONTS.helveticaBold, mono: FONTS.courier };
  const out = new Layout(document, fonts);

  out.text('Certificate of erasure', { font: fonts.bold, size: 20 });
  out.gap(4);
  const unaddressed = certificate.unaddressed ?? [];
  out.text(
    unaddressed.length === 0
      ? `Request ${certificate.requestId} was carried out in full: every task erased its data and was verified, ` +
          'and every step is recorded in a hash-chained audit trail whose head is anchored and signed.'
      : // Never "in full": the request reached only the targets it had an identifier for.
        `Request ${certificate.requestId} was carried out for the targets it could address: every task erased ` +
          `its data and was verified. ${unaddressed.length} target(s) were NOT addressed, because the request ` +
          'had no value of the identifier they are keyed by: nothing was erased there (listed below). Every step ' +
          'is recorded in a hash-chained audit trail whose head is anchored and signed.',
    { color: unaddressed.length === 0 ? MUTED : INK },
  );

  out.heading('Request');
  out.field('Request id', certificate.requestId, true);
  out.field('Subject (pseudonym)', certificate.subjectPseudonym, true);
  out.field('Reason', certificate.reasonCode);
  out.field('Data classes', certificate.dataClasses.join(', '));
  out.field('Retention rules', certificate.ruleRefs.length === 0 ? '-' : certificate.ruleRefs.join(', '));
  out.field('Received', certificate.receivedAt);
  out.field('Deadline', certificate.deadline);
  out.field('Completed', certificate.completedAt);
  out.field('Certificate issued', certificate.issuedAt);

  out.heading(`Tasks (${certificate.tasks.length}, all verified)`);
  for (const [index, task] of certificate.tasks.entries()) {
    // A task's title and its five fields on one page (13 + 5 × 15 points, and the gap).
    out.keep(13 + 5 * 15 + 4);
    out.text(`${index + 1}. ${task.dataClass}: ${task.action} in ${task.target}`, { font: fonts.bold });
    out.field('Task id', task.taskId, true);
    out.field('Connector', task.connector);
    out.field('Items affected', String(task.affectedCount));
    out.field('Executed', task.executedAt);
    out.field('Verified', task.verifiedAt);
    out.gap(4);
  }

  if (unaddressed.length > 0) {
    out.heading(`Not addressed (${unaddressed.length}): nothing erased in these targets`);
    out.text(
      'Each target is keyed by an identifier of which the request carried no value, so no task ran there. ' +
        "The request's request.received audit entry records them; the values are never recorded.",
      { color: MUTED },
    );
    out.gap(2);
    for (const item of unaddressed) out.field(item.target, `keyed by ${item.identifier}: no value given`);
  }

  out.heading('Audit trail');
  out.field('Chain (pseudonym)', certificate.chain.chainId, true);
  out.field(
    'Entries carried',
    `${certificate.chain.entries.length} (seq ${certificate.chain.entries[0]?.seq ?? '-'} to ${certificate.chain.head.seq})`,
  );
  out.field('Chain head hash', certificate.chain.head.hash, true);
  out.text("The request's own entries (seq, event, SHA-256 of the entry):", { color: MUTED });
  out.gap(2);
  for (const entry of certificate.requestEntries) {
    out.field(`#${entry.seq} ${entry.type}`, entry.hash, true);
  }

  out.heading('Anchor');
  out.field('Anchor', `#${certificate.anchor.seq}, ${certificate.anchor.at}`);
  out.field('Chains anchored', String(certificate.anchor.headCount));
  out.field('Merkle root', certificate.anchor.root, true);
  out.field('Anchor hash', certificate.anchor.hash, true);
  out.field(
    'Inclusion proof',
    `${certificate.anchor.proof.length} step(s) from this chain's head to the root`,
  );
  out.field('Anchor signed by', certificate.anchor.keyId, true);

  out.heading('Signature');
  out.field('Format', certificate.format, true);
  out.field('Signed by key', certificate.keyId, true);
  out.field('Signature (ECDSA P-256)', certificate.signature, true);
  for (const key of certificate.keys) out.field('Public key', key.keyId, true);
  out.field('certificate.json SHA-256', jsonSha256, true);

  const steps = [
    'This PDF is a readable rendering. The proof is the signed JSON certificate: it is attached to this PDF as ' +
      `certificate.json (SHA-256 above); GET /v1/erasure-requests/${certificate.requestId}/certificate issues a fresh one, signed anew, at each call.`,
    'Take the public key from a source you trust, not from the certificate: GET /v1/audit/public-keys, or the key ' +
      "published by the operator (KMS key in AWS). Its fingerprint (SHA-256 of the key's DER) must be the key id printed above.",
    'Run, without the service or AWS credentials: npx -p erasure-orchestrator erasure verify-certificate ' +
      'certificate.json --public-key key.pem. ' +
      'It re-hashes every audit entry and link, checks the facts above against the anchored audit entries, the ' +
      'inclusion proof against the anchor root, the anchor signature and the certificate signature, and prints ' +
      'VALID (exit 0) or what is wrong (exit 1). Without --public-key it can only say the certificate is ' +
      'consistent but NOT AUTHENTICATED (exit 4): the keys a certificate carries prove nothing on their own.',
    `Optionally compare anchor #${certificate.anchor.seq} with the copy in the anchor bucket (S3 Object Lock): ` +
      'its hash and root must match those printed here.',
  ];
  // The steps stay together with their heading: an auditor reads them as one procedure.
  out.keep(
    37 + steps.reduce((height, step, index) => height + out.textHeight(`${index + 1}. ${step}`) + 3, 0),
  );
  out.heading('How to verify');
  for (const [index, step] of steps.entries()) {
    out.text(`${index + 1}. ${step}`, { indent: 0 });
    out.gap(3);
  }
  out.footers(certificate.requestId);
  return document.save();
};
