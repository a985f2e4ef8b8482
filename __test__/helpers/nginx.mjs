// nginx-rtmp for tests and benchmarks (Debian packages nginx + libnginx-mod-rtmp): where
// it is installed and the one nginx.conf both generate.

export const NGINX = '/usr/sbin/nginx'
export const NGINX_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so'

/**
 * nginx.conf for one nginx process (no master process, not a daemon) serving the RTMP
 * application "live" (live on, record off) on 127.0.0.1:`port`; its pid file and error
 * log go in `dir` (run it with `-c <conf> -p <dir>`). nginx-rtmp's defaults stand
 * otherwise (it sends with chunk size 4096).
 * @param {{ dir: string, port: number, connections?: number, openFiles?: number,
 *   logLevel?: string }} options - `connections` is worker_connections; `openFiles`
 *   (worker_rlimit_nofile) is left out when not given.
 * @returns {string}
 */
export function nginxConf({ dir, port, connections = 64, openFiles, logLevel = 'error' }) {
  return `load_module ${NGINX_MODULE};
daemon off;
master_process off;
worker_processes 1;
${openFiles ? `worker_rlimit_nofile ${openFiles};\n` : ''}pid ${dir}/nginx.pid;
error_log ${dir}/error.log ${logLevel};
events { worker_connections ${connections}; }
rtmp {
  server {
    listen 127.0.0.1:${port};
    application live { live on; record off; }
  }
}
`
}
