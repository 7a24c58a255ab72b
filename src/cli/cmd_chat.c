/* parley chat: talks to a bot in the terminal, one conversation on the
 * "terminal" channel, against a telco-sim it starts (or a given backend). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#ifdef PARLEY_HAVE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#endif

#include "backend.h"
#include "cli.h"
#include "parley/dialog.h"

static const char usage[] =
    "usage: parley chat --bot DIR [--models DIR] [--backend URL | --db FILE] [--debug]\n"
    "\n"
    "Talks to the bot in DIR: type a message at 'you> ', the answer follows as\n"
    "'bot> '. /quit, end of input (Ctrl-D) or Ctrl-C ends the conversation.\n"
    "A file the bot hands over (a copy of your data) is saved in the current\n"
    "directory.\n"
    "Without a terminal, reads one message per line and echoes it, so a script\n"
    "can be piped in.\n"
    "\n"
    "  --bot DIR       the bot folder (bot.yml)\n"
    "  --models DIR    its trained models (default: DIR/models, from parley bot train)\n"
    "  --backend URL   the carrier backend to use; without it parley starts telco-sim\n"
    "                  on a free port and stops it at the end\n"
    "  --db FILE       the started telco-sim's state file, kept between chats\n"
    "                  (default: in memory)\n"
    "  --debug         after each answer, one line with the language, intent and\n"
    "                  confidence, entities, flow and step, actions, hand-off\n"
    "  -h, --help      this help\n"
    "\n"
    "telco-sim is found as $PARLEY_TELCO_SIM, beside the parley binary\n"
    "(tools/telco-sim/telco-sim) or on PATH.\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Reads one message into `*line` (caller frees); returns 1 when there is
 * one, 0 at the end (EOF or a signal). */
#ifdef PARLEY_HAVE_READLINE
static char *chat_line;
static int chat_line_done;

static void on_line(char *line)
{
    /* Removed here, not after: readline would print the prompt again. */
    rl_callback_handler_remove();
    chat_line = line;
    chat_line_done = 1;
}

/* readline's callback interface, so that a Ctrl-C (SIGINT, handled by us)
 * interrupts the wait for input and ends the chat cleanly. */
static int read_tty(char **line)
{
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    chat_line_done = 0;
    chat_line = NULL;
    rl_callback_handler_install("you> ", on_line);
    while (!chat_line_done && !stop_requested) {
        fd_set fds;
        int fd = fileno(rl_instream ? rl_instream : stdin);
        FD_ZERO(&fds);
        FD_SET(fd, &fds);
        int r = select(fd + 1, &fds, NULL, NULL, NULL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        rl_callback_read_char();
    }
    rl_callback_handler_remove();
    if (stop_requested || !chat_line_done || !chat_line) {
        free(chat_line);
        fputc('\n', stdout);
        return 0;
    }
    if (*chat_line)
        add_history(chat_line);
    *line = chat_line;
    return 1;
}
#endif

static int read_message(int tty, char **line)
{
    size_t cap = 0;
    ssize_t len;
#ifdef PARLEY_HAVE_READLINE
    if (tty)
        return read_tty(line);
#endif
    if (tty) {
        fputs("you> ", stdout);
        (void)fflush(stdout);
    }
    *line = NULL;
    len = getline(line, &cap, stdin);
    if (len < 0 || stop_requested) {
        free(*line);
        *line = NULL;
        if (tty)
            fputc('\n', stdout);
        return 0;
    }
    while (len > 0 && ((*line)[len - 1] == '\n' || (*line)[len - 1] == '\r'))
        (*line)[--len] = '\0';
    if (!tty)
        printf("you> %s\n", *line);
    return 1;
}

/* The --debug line: why the bot answered what it did (dim on a terminal). */
static void print_debug(const parley_dialog_reply *r, int color)
{
    printf("%s  [%s | %s %.2f | entities:", color ? "\033[2m" : "",
           r->language && *r->language ? r->language : "-",
           r->intent && *r->intent ? r->intent : "-", r->confidence);
    for (size_t i = 0; i < r->n_entities; i++)
        printf(" %s=%s", r->entities[i].kind, r->entities[i].value);
    printf("%s | flow %s/%s | actions:", r->n_entities ? "" : " -",
           r->flow && *r->flow ? r->flow : "-", r->step && *r->step ? r->step : "-");
    for (size_t i = 0; i < r->n_actions; i++)
        printf(" %s %s%s%s", r->actions[i].name, r->actions[i].status,
               r->actions[i].backend_code ? "/" : "",
               r->actions[i].backend_code ? r->actions[i].backend_code : "");
    printf("%s | handoff %s]%s\n", r->n_actions ? "" : " -", r->handoff ? "yes" : "no",
           color ? "\033[0m" : "");
    if (r->handoff && r->summary && *r->summary)
        printf("%s  [summary for the agent: %s]%s\n", color ? "\033[2m" : "", r->summary,
               color ? "\033[0m" : "");
}

/* Writes a file the bot handed over (the customer's data export) into the
 * current directory under its name, or NAME-2, NAME-3... rather than
 * replace a file; readable by the owner only, as it is personal. */
static void save_attachment(const parley_dialog_reply *r)
{
    const char *name = r->attachment_name, *dot = strrchr(name, '.');
    int stem = dot ? (int)(dot - name) : (int)strlen(name), fd = -1;
    char path[256];
    size_t len = strlen(r->attachment);
    for (int i = 1; i < 100 && fd < 0; i++) {
        if (i == 1)
            (void)snprintf(path, sizeof(path), "%s", name);
        else
            (void)snprintf(path, sizeof(path), "%.*s-%d%s", stem, name, i, dot ? dot : "");
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        cli_error("cannot save %s in the current directory: %s", name, strerror(errno));
        return;
    }
    if (write(fd, r->attachment, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
        cli_error("cannot write %s: %s", path, strerror(errno));
        (void)close(fd);
        (void)unlink(path); /* no half copy left behind */
        return;
    }
    if (close(fd) != 0)
        cli_error("cannot write %s: %s", path, strerror(errno));
    else
        printf("bot> [file saved: %s]\n", path);
}

/* One message through the engine; a bad message is reported and the
 * conversation goes on. */
static void say(parley_dialog *d, const char *id, const char *line, int debug, int color)
{
    parley_error err = PARLEY_ERROR_INIT;
    parley_dialog_reply *r = NULL;
    parley_err rc = parley_dialog_turn(d, id, line, strlen(line), 0, &r, &err);

    if (rc == PARLEY_ERR_UTF8) {
        cli_error("that message is not valid UTF-8 text; please type it again");
    } else if (rc == PARLEY_ERR_LIMIT) {
        cli_error("that message is too long (at most %u bytes); please shorten it",
                  PARLEY_DIALOG_MAX_MESSAGE);
    } else if (rc != PARLEY_OK) {
        cli_error("the bot could not answer: %s", err.msg);
    } else {
        printf("bot> %s\n", r->text ? r->text : "");
        for (size_t i = 0; i < r->n_choices; i++)
            printf("  [%zu] %s\n", i + 1, r->choices[i]);
        if (r->attachment)
            save_attachment(r);
        if (debug)
            print_debug(r, color);
    }
    (void)fflush(stdout);
    parley_dialog_reply_free(r);
}

int cmd_chat(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"bot", required_argument, NULL, 'b'},
        {"models", required_argument, NULL, 'm'},
        {"backend", required_argument, NULL, 'u'},
        {"db", required_argument, NULL, 'd'},
        {"debug", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    parley_dialog_options opts = {0};
    struct backend_options bo = {0};
    struct backend sim = {-1, -1, -1, ""};
    struct sigaction sa, old[3];
    static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    parley_error err = PARLEY_ERROR_INIT;
    parley_dialog *d = NULL;
    char id[PARLEY_STORE_ID_SIZE], msg[1024];
    const char *backend_url = NULL;
    int ch, debug = 0, rc = EXIT_FAIL, tty = isatty(STDIN_FILENO);
    int color = isatty(STDOUT_FILENO);

    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            opts.bot_dir = optarg;
            break;
        case 'm':
            opts.models_dir = optarg;
            break;
        case 'u':
            backend_url = optarg;
            break;
        case 'd':
            bo.db = optarg;
            break;
        case 'D':
            debug = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (!opts.bot_dir)
        return cli_usage_error(usage, "chat needs --bot");
    if (backend_url && bo.db)
        return cli_usage_error(usage, "--db is for the telco-sim that chat starts; not with "
                                      "--backend");

    /* Signals end the chat between messages; the backend is then stopped. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    (void)sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++)
        (void)sigaction(sigs[i], &sa, &old[i]);

    if (!backend_url) {
        if (backend_start(&bo, &sim, msg, sizeof(msg)) != 0) {
            cli_error("%s", msg);
            goto out;
        }
        backend_url = sim.url;
        fprintf(stderr, "parley: started telco-sim on %s\n", sim.url);
    }
    opts.backend_url = backend_url;
    if (parley_dialog_open(&opts, &d, &err) != PARLEY_OK ||
        parley_dialog_start(d, "terminal", id, &err) != PARLEY_OK) {
        cli_error("%s", err.msg);
        goto out;
    }
    if (tty)
        fprintf(stderr, "parley: talking to '%s' (/quit to leave)\n", opts.bot_dir);
    for (char *line = NULL; !stop_requested && read_message(tty, &line);) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strcmp(p, "/quit") == 0 || strcmp(p, "/exit") == 0) {
            free(line);
            break;
        }
        if (*p)
            say(d, id, line, debug, color);
        free(line);
    }
    rc = EXIT_OK;
out:
    parley_dialog_close(d);
    if (sim.pid > 0 && backend_stop(&sim) != 0)
        cli_error("telco-sim did not stop cleanly");
    for (int i = 0; i < 3; i++)
        (void)sigaction(sigs[i], &old[i], NULL);
    return rc;
}
