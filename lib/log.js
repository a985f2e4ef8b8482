'use strict';

/**
 * node-rtmpapi's logger: `log(...args)` prints `new Date, raddr, '>', ...args` with
 * console.log while debugging is on. `NODE_DEBUG=rtmpapi` turns it on for every logger.
 * @param {boolean} [debug]
 * @param {string} [remoteAddr]
 */
function log(debug, remoteAddr) {
  let enabled = Boolean(debug) || /\brtmpapi\b/i.test(process.env.NODE_DEBUG || '');
  let raddr = remoteAddr;
  return {
    log(...args) {
      if (enabled) console.log(new Date(), raddr, '>', ...args);
    },
    debug(level) {
      enabled = Boolean(level);
    },
    raddr(addr) {
      raddr = addr;
    },
  };
}

module.exports = log;
