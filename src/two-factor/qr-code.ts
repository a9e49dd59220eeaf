import { Injectable } from '@nestjs/common';
import { toDataURL } from 'qrcode';

/** QR images are made here, locally: the otpauth URI (it holds the secret) never leaves the service. */
@Injectable()
export class QrCodeRenderer {
  toPngDataUrl(text: string): Promise<string> {
    return toDataURL(text, { errorCorrectionLevel: 'M', margin: 2, scale: 4 });
  }
}
