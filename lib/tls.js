'use strict';

// The `tls` option of servers (RTMPS: cert + key) and clients (ca, rejectUnauthorized),
// checked and turned into the Buffers the native layer takes. PEM may be given as a
// string, a Buffer, or an array of them, as with Node's tls module.

/**
 * @param {unknown} value
 * @param {string} name
 * @returns {Buffer | undefined}
 */
function pem(value, name) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return Buffer.from(value);
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return Buffer.concat(value.map((v, i) => Buffer.concat([pem(v, `${name}[${i}]`), Buffer.from('\n')])));
  throw Object.assign(new TypeError(`options.tls.${name} must be a PEM string or Buffer`), { code: 'ERR_INVALID_ARG_TYPE' });
}

/**
 * @param {unknown} tls - the app's `tls` option (a client may pass `true` for the defaults)
 * @param {'server' | 'client'} side
 * @returns {{ cert?: Buffer, key?: Buffer, ca?: Buffer, rejectUnauthorized?: boolean } | undefined}
 */
function nativeTlsOptions(tls, side) {
  if (tls === undefined || tls === null || tls === false) return undefined;
  if (tls === true && side === 'client') return {};
  if (typeof tls !== 'object') {
    throw Object.assign(new TypeError('options.tls must be an object'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  const options = { cert: pem(tls.cert, 'cert'), key: pem(tls.key, 'key'), ca: pem(tls.ca, 'ca') };
  if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = Boolean(tls.rejectUnauthorized);
  if (side === 'server' && (!options.cert || !options.key)) {
    throw Object.assign(new TypeError('options.tls needs both cert and key'), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  return options;
}

module.exports = { nativeTlsOptions };
