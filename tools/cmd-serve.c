/*
 * cmd-serve.c — `kho serve`: the teachers' web app and JSON API until
 * SIGINT or SIGTERM, which stop it gracefully (requests in flight finish).
 * Settings come from the configuration file, then from the command line.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "server.h"

/* For 0.0.0.0: the addresses of this machine's networks, where teachers'
 * phones reach it. */
static void print_lan_addresses(unsigned port)
{
	struct ifaddrs *list = NULL;
	if (getifaddrs(&list))
		return;
	for (struct ifaddrs *i = list; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof a);
		if (strncmp(a, "127.", 4))
			printf("  on the network %s: http://%s:%u/\n", i->ifa_name, a, port);
	}
	freeifaddrs(list);
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'N' },
		{ "threads", required_argument, NULL, 't' },
		CLI_COMMON_OPTIONS,
		{ 0 },
	};
	const char *listen = NULL, *config = NULL, *name = NULL;
	long threads = 0;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "l:", options, NULL)) != -1) {
		int rc = cli_common_option(opt, &cmd_serve);
		if (rc >= 0)
			return rc;
		switch (opt) {
		case 'l': listen = optarg; break;
		case 'c': config = optarg; break;
		case 'N': name = optarg; break;
		case 't':
			if (!cli_parse_int(optarg, 1, 64, &threads))
				return cli_usage(&cmd_serve, "--threads takes a number from 1 to 64");
			break;
		default: break;
		}
	}
	if (optind != argc)
		return cli_usage(&cmd_serve, "serve takes no arguments besides options");
	/* one line per request, unless --quiet or $KHO_LOG said otherwise */
	if (!getenv("KHO_LOG") && kho_log_get_level() == KHO_LOG_WARN)
		kho_log_set_level(KHO_LOG_INFO);

	kho_store *store = NULL;
	kho_index *index = NULL;
	if (cli_open(&store, &index))
		return 1;
	/* opening migrated the store and checked the index; each request
	 * thread opens its own */
	char *home = strdup(kho_store_home(store));
	kho_index_free(index);
	kho_store_free(store);
	if (!home)
		return cli_fail("serve");

	server_config cfg = { 0 };
	int rc = KHO_OK;
	if (config) {
		rc = server_config_read(&cfg, config);
	} else {
		size_t n = strlen(home) + 16;
		char *path = malloc(n);
		if (path) {
			snprintf(path, n, "%s/kho.conf", home);
			rc = server_config_read(&cfg, path);
			if (rc == KHO_ENOTFOUND)
				rc = KHO_OK;
			free(path);
		}
	}
	char *url = NULL;
	server *srv = NULL;
	if (!rc && listen) {
		struct sockaddr_storage a;
		size_t n;
		if (!(rc = server_parse_listen(&a, &n, listen))) {
			free(cfg.listen);
			if (!(cfg.listen = strdup(listen)))
				rc = kho_error_set(KHO_ENOMEM, "out of memory");
		}
	}
	if (!rc && name) {
		free(cfg.name);
		if (!(cfg.name = strdup(name)))
			rc = kho_error_set(KHO_ENOMEM, "out of memory");
	}
	if (threads)
		cfg.threads = (unsigned)threads;

	/* The signals are taken by sigwait() below: blocked before the server's
	 * threads start, so that they inherit the mask. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!rc)
		rc = server_start(&srv, &url, home, &cfg);
	if (rc) {
		server_config_free(&cfg);
		free(home);
		return cli_fail("cannot serve");
	}
	printf("kho: serving %s%s%sat %s\n", cfg.name ? "\"" : "", cfg.name ? cfg.name : "",
		cfg.name ? "\" " : "", url);
	if (strstr(url, "//0.0.0.0:")) {
		const char *colon = strrchr(url, ':');
		print_lan_addresses((unsigned)atoi(colon + 1));
	}
	printf("Stop with Ctrl-C.\n");
	fflush(stdout);
	kho_log_info("serving the box at %s to %s", home, url);

	int sig = 0;
	sigwait(&stop, &sig);
	kho_log_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	server_stop(srv);
	server_config_free(&cfg);
	free(url);
	free(home);
	return 0;
}

const kho_command cmd_serve = {
	"serve", run, "serve the web app and API to teachers' browsers",
	"usage: kho serve [--listen ADDR:PORT] [--config FILE] [--name NAME] [--threads N]\n"
	"                 [--home DIR] [--quiet]\n\n"
	"Serves the teachers' web app, the JSON API (docs/api.md) and the lessons'\n"
	"files until Ctrl-C (SIGINT) or SIGTERM. Logs one line per request on stderr.\n\n"
	"  --listen ADDR:PORT  where to listen (default 127.0.0.1:8080, this machine\n"
	"                      only; 0.0.0.0:8080 for the school's network; port 0\n"
	"                      picks a free one)\n"
	"  --config FILE       settings (default: kho.conf in the box's home, if there):\n"
	"                      listen, name, threads, idle_timeout — see\n"
	"                      tools/kho.conf.example\n"
	"  --name NAME         the school's name, shown at the top of the app\n"
	"  --threads N         request threads (default: one per core, at most 4)\n",
};
