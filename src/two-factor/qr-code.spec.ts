import { decodeQrDataUrl } from '../../test/helpers/qr';
import { QrCodeRenderer } from './qr-code';

// qrcode on this (the main) thread refuses to work: an image that decodes was made on a worker thread.
jest.mock('qrcode', () => ({
  toDataURL: () => {
    throw new Error('qrcode called on the event loop');
  },
}));

const URI = 'otpauth://totp/twofa:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=twofa';

describe(QrCodeRenderer.name, () => {
  let renderer: QrCodeRenderer;

  beforeAll(() => {
    renderer = new QrCodeRenderer({ renderThreads: 2 });
  });

  afterAll(async () => {
    await renderer.onApplicationShutdown();
  });

  it('renders the PNG on a worker thread, not the event loop', async () => {
    expect(decodeQrDataUrl(await renderer.toPngDataUrl(URI))).toBe(URI);
  });

  it('renders more images at once than it has threads, each of its own text', async () => {
    const uris = Array.from({ length: 7 }, (_, i) => `${URI}&n=${i}`);
    const images = await Promise.all(uris.map((uri) => renderer.toPngDataUrl(uri)));
    expect(images.map(decodeQrDataUrl)).toEqual(uris);
  });

  it('hands each image back in a macrotask of its own, so no caller resumes while another one runs', async () => {
    // What an enrolment does after its image: a transaction whose awaits settle without I/O (SQLite).
    let running = 0;
    let overlaps = 0;
    const enrol = async (i: number) => {
      await renderer.toPngDataUrl(`${URI}&n=${i}`);
      if (running > 0) overlaps++;
      running++;
      for (let step = 0; step < 10; step++) await Promise.resolve();
      running--;
    };
    await Promise.all(Array.from({ length: 40 }, (_, i) => enrol(i)));
    expect(overlaps).toBe(0);
  });

  it('renders in the order asked: first come, first served', async () => {
    const oneThread = new QrCodeRenderer({ renderThreads: 1 });
    try {
      const finished: number[] = [];
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => oneThread.toPngDataUrl(`${URI}&n=${i}`).then(() => finished.push(i))),
      );
      expect(finished).toEqual(Array.from({ length: 12 }, (_, i) => i));
    } finally {
      await oneThread.onApplicationShutdown();
    }
  });

  it("rejects a text too long for any QR code with qrcode's message, and renders the next one", async () => {
    await expect(renderer.toPngDataUrl('x'.repeat(4000))).rejects.toThrow(/too big to be stored in a QR Code/);
    expect(decodeQrDataUrl(await renderer.toPngDataUrl(URI))).toBe(URI);
  });
});
