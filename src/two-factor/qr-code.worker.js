'use strict';
/**
 * The task of the QR rendering pool (qr-code.ts): one otpauth URI in, one PNG data URL out, on a worker
 * thread. Plain JavaScript on purpose: worker threads load this file with plain Node, so the one file
 * serves the compiled service (tsconfig.build.json copies it to dist/) and ts-node and jest alike, which
 * compile only what the main thread loads.
 */
const { toDataURL } = require('qrcode');
const { workerData } = require('piscina');

module.exports = (text) => toDataURL(text, workerData.options);
