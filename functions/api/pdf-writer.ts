/**
 * A minimal PDF 1.7 writer: text in three of the 14 standard fonts (WinAnsi), lines, document
 * information and one attached file, content streams deflated. Just what the certificate of erasure
 * draws (certificate-pdf.ts); a general PDF library (pdf-lib with its fonts, pako and a PNG
 * decoder, about 430 KB bundled) took the certificate function over its 1 MB bundle limit.
 * The standard fonts need no font program, only their widths (Adobe's AFM metrics) for layout.
 */
import { deflateSync } from 'node:zlib';

/** A colour, components 0 to 1. */
export type Color = readonly [number, number, number];
export const rgb = (red: number, green: number, blue: number): Color => [red, green, blue];

/** Code points 32-126 then 160-255 (WinAnsi equals Latin-1 there): widths in 1/1000 em. */
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
  556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
  500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
  556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
  278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 278, 333, 556, 556, 556, 556, 260, 556, 333, 737,
  370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834,
  611, 667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, 722, 722, 778, 778,
  778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, 556, 556, 556, 556, 556, 556, 889, 500, 556,
  556, 556, 556, 278, 278, 278, 278, 556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500,
  556, 500,
];
const HELVETICA_BOLD = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
  556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278,
  556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584,
  556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556,
  333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 278, 333, 556, 556, 556, 556, 280, 556, 333, 737,
  370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834,
  611, 722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, 722, 722, 778, 778,
  778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, 556, 556, 556, 556, 556, 556, 889, 556, 556,
  556, 556, 556, 278, 278, 278, 278, 611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556,
  611, 556,
];

/** Characters the standard fonts cannot show (outside WinAnsi's Latin-1 part) are drawn as `?`. */
export const winAnsi = (text: string): string => text.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');

export interface PdfFont {
  /** Its name in the pages' resources. */
  readonly resource: string;
  readonly baseFont: string;
  widthOfTextAtSize(text: string, size: number): number;
}

const standardFont = (resource: string, baseFont: string, widths: readonly number[] | number): PdfFont => ({
  resource,
  baseFont,
  widthOfTextAtSize: (text, size) => {
    let total = 0;
    for (const char of winAnsi(text)) {
      const code = char.charCodeAt(0);
      total += typeof widths === 'number' ? widths : (widths[code < 160 ? code - 32 : code - 65] ?? 0);
    }
    return (total * size) / 1000;
  },
});

export const FONTS = {
  helvetica: standardFont('F1', 'Helvetica', HELVETICA),
  helveticaBold: standardFont('F2', 'Helvetica-Bold', HELVETICA_BOLD),
  courier: standardFont('F3', 'Courier', 600),
} as const;

/** Numbers as PDF writes them: at most 3 decimals, no exponent. */
const num = (value: number): string => String(Math.round(value * 1000) / 1000);
const colour = (color: Color): string => color.map(num).join(' ');
/** A PDF string: the text's WinAnsi bytes, in hex (no escaping to get wrong). */
const hex = (text: string): string => `<${Buffer.from(winAnsi(text), 'latin1').toString('hex')}>`;
/** `D:YYYYMMDDHHmmSSZ`. */
const pdfDate = (date: Date): string => `(D:${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z)`;

export class PdfPage {
  private readonly operations: string[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  drawText(text: string, options: { x: number; y: number; size: number; font: PdfFont; color: Color }): void {
    this.operations.push(
      `BT /${options.font.resource} ${num(options.size)} Tf ${colour(options.color)} rg ` +
        `1 0 0 1 ${num(options.x)} ${num(options.y)} Tm ${hex(text)} Tj ET`,
    );
  }

  drawLine(options: {
    start: { x: number; y: number };
    end: { x: number; y: number };
    thickness: number;
    color: Color;
  }): void {
    const { start, end } = options;
    this.operations.push(
      `${colour(options.color)} RG ${num(options.thickness)} w ${num(start.x)} ${num(start.y)} m ${num(end.x)} ${num(end.y)} l S`,
    );
  }

  content(): string {
    return `${this.operations.join('\n')}\n`;
  }
}

export interface Attachment {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly mimeType: string;
  readonly description: string;
  readonly date: Date;
}

export interface DocumentInfo {
  readonly title: string;
  readonly subject: string;
  readonly producer: string;
  readonly creator: string;
  readonly date: Date;
}

/** A name object: `/` and delimiters escaped as #xx. */
const name = (value: string): string =>
  `/${[...value].map((char) => (/[A-Za-z0-9.\-_+]/.test(char) ? char : `#${char.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`)).join('')}`;

/** A document of pages, with its information dictionary and at most one attached file. */
export class PdfDocument {
  readonly pages: PdfPage[] = [];
  private attachment: Attachment | undefined;

  constructor(private readonly info: DocumentInfo) {}

  addPage(width: number, height: number): PdfPage {
    const page = new PdfPage(width, height);
    this.pages.push(page);
    return page;
  }

  attach(attachment: Attachment): void {
    this.attachment = attachment;
  }

  /** The file's bytes: the same for the same drawing (no clock, no random id). */
  save(): Uint8Array {
    const fonts = Object.values(FONTS);
    // 1 catalog, 2 page tree, 3 info, fonts, then the attachment (file, spec), then page + contents.
    const fontIds = fonts.map((_, index) => 4 + index);
    const fileId = 4 + fonts.length;
    const specId = fileId + 1;
    const firstPageId = specId + 1;
    const pageIds = this.pages.map((_, index) => firstPageId + 2 * index);
    const objects = new Map<number, Buffer>();
    const dictionary = (id: number, body: string) => objects.set(id, Buffer.from(body, 'latin1'));
    const stream = (id: number, entries: string, data: Uint8Array) => {
      const deflated = deflateSync(data);
      objects.set(
        id,
        Buffer.concat([
          Buffer.from(`<< ${entries} /Length ${deflated.length} /Filter /FlateDecode >>\nstream\n`, 'latin1'),
          deflated,
          Buffer.from('\nendstream', 'latin1'),
        ]),
      );
    };
    const { attachment } = this;
    const names =
      attachment === undefined
        ? ''
        : ` /Names << /EmbeddedFiles << /Names [${hex(attachment.name)} ${specId} 0 R] >> >> /AF [${specId} 0 R]`;
    dictionary(1, `<< /Type /Catalog /Pages 2 0 R${names} >>`);
    dictionary(
      2,
      `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pageIds.length} >>`,
    );
    const { info } = this;
    dictionary(
      3,
      `<< /Title ${hex(info.title)} /Subject ${hex(info.subject)} /Producer ${hex(info.producer)} ` +
        `/Creator ${hex(info.creator)} /CreationDate ${pdfDate(info.date)} /ModDate ${pdfDate(info.date)} >>`,
    );
    fonts.forEach((font, index) => {
      dictionary(
        fontIds[index] ?? 0,
        `<< /Type /Font /Subtype /Type1 /BaseFont /${font.baseFont} /Encoding /WinAnsiEncoding >>`,
      );
    });
    if (attachment !== undefined) {
      stream(
        fileId,
        `/Type /EmbeddedFile /Subtype ${name(attachment.mimeType)} /Params << /Size ${attachment.bytes.length} ` +
          `/CreationDate ${pdfDate(attachment.date)} /ModDate ${pdfDate(attachment.date)} >>`,
        attachment.bytes,
      );
      dictionary(
        specId,
        `<< /Type /Filespec /F ${hex(attachment.name)} /UF ${hex(attachment.name)} /EF << /F ${fileId} 0 R >> ` +
          `/Desc ${hex(attachment.description)} /AFRelationship /Data >>`,
      );
    }
    const resources = `<< /Font << ${fonts.map((font, index) => `/${font.resource} ${fontIds[index]} 0 R`).join(' ')} >> >>`;
    this.pages.forEach((page, index) => {
      const id = pageIds[index] ?? 0;
      dictionary(
        id,
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${num(page.width)} ${num(page.height)}] ` +
          `/Resources ${resources} /Contents ${id + 1} 0 R >>`,
      );
      stream(id + 1, '', Buffer.from(page.content(), 'latin1'));
    });

    // A binary comment after the header tells transfer tools the file is binary.
    const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
    let offset = chunks[0]?.length ?? 0;
    const size = firstPageId + 2 * this.pages.length;
    const offsets: number[] = [];
    for (let id = 1; id < size; id++) {
      const body = objects.get(id);
      if (body === undefined) continue; // no attachment: its two numbers stay free
      offsets[id] = offset;
      const object = Buffer.concat([
        Buffer.from(`${id} 0 obj\n`, 'latin1'),
        body,
        Buffer.from('\nendobj\n', 'latin1'),
      ]);
      chunks.push(object);
      offset += object.length;
    }
    const xref = [`xref\n0 ${size}\n`, '0000000000 65535 f \n'];
    for (let id = 1; id < size; id++) {
      const at = offsets[id];
      xref.push(at === undefined ? '0000000000 65535 f \n' : `${String(at).padStart(10, '0')} 00000 n \n`);
    }
    chunks.push(
      Buffer.from(
        `${xref.join('')}trailer\n<< /Size ${size} /Root 1 0 R /Info 3 0 R >>\nstartxref\n${offset}\n%%EOF\n`,
        'latin1',
      ),
    );
    return new Uint8Array(Buffer.concat(chunks));
  }
}
