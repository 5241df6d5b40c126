/*
 * httpd.h - a tiny HTTP/1.x server on 127.0.0.1, for the suites that
 * need a real peer for libcurl (fetch, probe, check_probe).
 *
 * httpd_start() binds a free port and forks the server, which forks
 * once per connection (no threads anywhere): the connection's child
 * reads the request head, hands it to the suite's route function, which
 * answers (httpd_respond()), and exits, closing the connection. Start
 * the server before the test process starts libcurl, and stop it with
 * httpd_stop() in the suite's cleanup.
 *
 * Caveats: static inline, for one translation unit per test program.
 * One request per connection, its head at most 8 KiB; a connection's
 * child is killed after 10 s (alarm), so nothing outlives a hung test.
 */
#ifndef SHERVE_HTTPD_H
#define SHERVE_HTTPD_H

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Answer the request head req (NUL-terminated) on fd. */
typedef void (*httpd_route)(int fd, const char *req, const char *method,
                            const char *path);

/* Write n bytes of s to fd, or end the connection's child. */
static inline void
httpd_put(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			_exit(0);
		s += w;
		n -= (size_t)w;
	}
}

/* "HTTP/1.1 head" (a status line and headers), Content-Length, body. */
static inline void
httpd_respond(int fd, const char *head, const char *body, size_t len)
{
	char h[512];
	int n = snprintf(h, sizeof(h),
	                 "HTTP/1.1 %s\r\nConnection: close\r\n"
	                 "Content-Length: %zu\r\n\r\n",
	                 head, len);

	httpd_put(fd, h, (size_t)n);
	httpd_put(fd, body, len);
}

/* One connection: read the request head, route it, close. */
static inline void
httpd_serve_one(int fd, httpd_route route)
{
	char req[8192], method[16], path[1024];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(req) - 1 &&
	       (r = read(fd, req + n, sizeof(req) - 1 - n)) > 0) {
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[n] = '\0';
	if (sscanf(req, "%15s %1023s ", method, path) != 2)
		_exit(0);
	route(fd, req, method, path);
	_exit(0);
}

static inline void
httpd_main(int lfd, httpd_route route)
{
	signal(SIGCHLD, SIG_IGN); /* no zombies: the kernel reaps */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			alarm(10);
			httpd_serve_one(fd, route);
		}
		close(fd);
	}
}

/*
 * Start a server answering with route; its "http://127.0.0.1:PORT" is
 * written to base (basesz bytes; 32 hold it). Returns its pid, or -1.
 */
static inline pid_t
httpd_start(httpd_route route, char *base, size_t basesz)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 16) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	snprintf(base, basesz, "http://127.0.0.1:%u",
	         (unsigned)ntohs(sa.sin_port));
	if ((pid = fork()) == 0)
		httpd_main(lfd, route);
	close(lfd);
	return pid;
}

/* Stop the process pid (a server this suite started), if any. */
static inline void
httpd_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

#endif
