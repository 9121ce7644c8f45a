/* grpcload: unary gRPC calls over HTTP/2 (libnghttp2), each call's request different.
 *
 * h2load sends one body on every stream; a ReserveSeat call must name a new user every
 * time (one seat per user and event). This sends, for call i, the gRPC frame of
 *     prefix[i % number of prefixes] ++ field FIELD = value(i)
 * where value(i) is the string "<TAG>-<i>" (KIND s), or the varint START + i, taken
 * modulo MODULO plus 1 when MODULO > 0 (KIND v). A protobuf parser keeps the last value
 * of a field, so the appended field may also replace one set in the prefix.
 * One thread, poll, no allocation per call beyond one small buffer and nghttp2's own: it
 * costs about what h2load costs, so the server is measured rather than the generator.
 *
 * usage: grpcload HOST PORT PATH CONNECTIONS STREAMS REQUESTS RATE LOG
 *                 FIELD KIND TAG START MODULO PREFIX...
 *   STREAMS   calls in flight per connection (closed loop; RATE 0)
 *   RATE      calls per second in total (open loop; each call's time is taken from
 *             the moment it was due, so a late start counts against the server);
 *             0: closed loop
 *   LOG       file for "start_us<TAB>grpc-status<TAB>micros" per call, or "-" for none
 *   PREFIX    hex bytes
 * Environment: GRPCLOAD_KEY_HEADER=name also sends, on call i, the header `name` with the
 * value "<TAG>-<i>" (a distinct idempotency key per call).
 * Prints: "calls N ok K not_ok M seconds S" (grpc-status read from each call's trailers).
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#define MAX_BODY 512

typedef struct {
    int fd;
    nghttp2_session *session;
    int in_flight;
} conn_t;

typedef struct {
    uint8_t body[MAX_BODY];
    size_t len, sent;
    double due;      /* seconds, monotonic: when the call was (to be) sent */
    int grpc_status; /* -1 until the trailers say */
    char key[64];    /* the GRPCLOAD_KEY_HEADER value, kept until the call ends */
} call_t;

static conn_t *conns;
static int n_conns, streams_per_conn;
static long total, submitted, finished, ok_count, not_ok_count;
static double rate;
static FILE *log_file;
static const char *path, *authority, *tag, *key_header;
static int field_number, field_is_string;
static unsigned long long start_value, modulo;
static uint8_t **prefixes;
static size_t *prefix_lens;
static int n_prefixes;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags,
                       void *user) {
    (void)s; (void)flags;
    conn_t *c = user;
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return NGHTTP2_ERR_WOULDBLOCK;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return n;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *user) {
    (void)s; (void)id; (void)user;
    call_t *call = src->ptr;
    size_t n = call->len - call->sent;
    if (n > len) n = len;
    memcpy(buf, call->body + call->sent, n);
    call->sent += n;
    if (call->sent == call->len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user) {
    (void)flags; (void)user;
    if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
        call_t *call = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
        if (call) {
            char text[16] = {0};
            memcpy(text, value, valuelen < 15 ? valuelen : 15);
            call->grpc_status = atoi(text);
        }
    }
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *user) {
    (void)s; (void)flags; (void)id; (void)data; (void)len; (void)user;
    return 0;
}

static void submit(conn_t *c, double due);

static int on_close(nghttp2_session *s, int32_t id, uint32_t error, void *user) {
    (void)error;
    conn_t *c = user;
    call_t *call = nghttp2_session_get_stream_user_data(s, id);
    if (!call) return 0;
    double done = now();
    finished++;
    c->in_flight--;
    if (call->grpc_status == 0) ok_count++; else not_ok_count++;
    if (log_file)
        fprintf(log_file, "%.0f\t%d\t%.0f\n", wall_us() - (done - call->due) * 1e6,
                call->grpc_status, (done - call->due) * 1e6);
    free(call);
    if (rate == 0 && submitted < total) submit(c, now());
    return 0;
}

static void submit(conn_t *c, double due) {
    call_t *call = calloc(1, sizeof *call);
    if (!call) die("calloc");
    long i = submitted++;
    int p = (int)(i % n_prefixes);
    uint8_t *b = call->body;
    if (5 + prefix_lens[p] + 80 > MAX_BODY) { fprintf(stderr, "body too long\n"); exit(2); }
    memcpy(b + 5, prefixes[p], prefix_lens[p]);
    size_t at = 5 + prefix_lens[p];
    b[at++] = (uint8_t)(field_number << 3 | (field_is_string ? 2 : 0)); /* field < 16 */
    if (field_is_string) {
        char text[64];
        int n = snprintf(text, sizeof text, "%s-%ld", tag, i);
        b[at++] = (uint8_t)n; /* < 64: a one-byte length */
        memcpy(b + at, text, (size_t)n);
        at += (size_t)n;
    } else {
        unsigned long long v = start_value + (unsigned long long)i;
        if (modulo) v = v % modulo + 1;
        do {
            b[at++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v);
    }
    size_t msg = at - 5;
    b[0] = 0;
    b[1] = (uint8_t)(msg >> 24); b[2] = (uint8_t)(msg >> 16);
    b[3] = (uint8_t)(msg >> 8); b[4] = (uint8_t)msg;
    call->len = at;
    call->due = due;
    call->grpc_status = -1;
    nghttp2_nv headers[] = {
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), \
                  NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE}
        NV(":method", "POST"), NV(":scheme", "http"), NV(":authority", authority),
        NV(":path", path), NV("content-type", "application/grpc"), NV("te", "trailers"),
        NV("", ""),
    };
    size_t n_headers = 6;
    if (key_header) {
        int n = snprintf(call->key, sizeof call->key, "%s-%ld", tag, i);
        headers[6] = (nghttp2_nv){(uint8_t *)key_header, (uint8_t *)call->key,
                                  strlen(key_header), (size_t)n,
                                  NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
        n_headers = 7;
    }
    nghttp2_data_provider provider = {.source.ptr = call, .read_callback = read_body};
    if (nghttp2_submit_request(c->session, NULL, headers, n_headers, &provider, call) < 0) {
        fprintf(stderr, "submit failed\n");
        exit(2);
    }
    c->in_flight++;
}

static int connect_to(const char *host, const char *port) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, port, &hints, &res) != 0) die("getaddrinfo");
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) die("connect");
    freeaddrinfo(res);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static uint8_t *from_hex(const char *hex, size_t *len) {
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, "%2hhx", &out[i]);
    *len = n;
    return out;
}

int main(int argc, char **argv) {
    if (argc < 15) {
        fprintf(stderr, "usage: grpcload HOST PORT PATH CONNECTIONS STREAMS REQUESTS RATE"
                        " LOG FIELD KIND TAG START MODULO PREFIX...\n");
        return 2;
    }
    const char *host = argv[1], *port = argv[2];
    path = argv[3];
    n_conns = atoi(argv[4]);
    streams_per_conn = atoi(argv[5]);
    total = atol(argv[6]);
    rate = atof(argv[7]);
    log_file = strcmp(argv[8], "-") ? fopen(argv[8], "w") : NULL;
    if (strcmp(argv[8], "-") && !log_file) die("log");
    key_header = getenv("GRPCLOAD_KEY_HEADER");
    field_number = atoi(argv[9]);
    field_is_string = strcmp(argv[10], "s") == 0;
    tag = argv[11];
    start_value = strtoull(argv[12], NULL, 10);
    modulo = strtoull(argv[13], NULL, 10);
    if (field_number < 1 || field_number > 15 || strlen(tag) > 40) {
        fprintf(stderr, "FIELD must be 1-15 and TAG at most 40 characters\n");
        return 2;
    }
    n_prefixes = argc - 14;
    prefixes = calloc((size_t)n_prefixes, sizeof *prefixes);
    prefix_lens = calloc((size_t)n_prefixes, sizeof *prefix_lens);
    for (int i = 0; i < n_prefixes; i++) prefixes[i] = from_hex(argv[14 + i], &prefix_lens[i]);
    static char auth[300];
    snprintf(auth, sizeof auth, "%s:%s", host, port);
    authority = auth;

    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
    conns = calloc((size_t)n_conns, sizeof *conns);
    struct pollfd *pfds = calloc((size_t)n_conns, sizeof *pfds);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
                                         {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 24}};
    for (int i = 0; i < n_conns; i++) {
        conns[i].fd = connect_to(host, port);
        nghttp2_session_client_new(&conns[i].session, cbs, &conns[i]);
        nghttp2_submit_settings(conns[i].session, NGHTTP2_FLAG_NONE, settings, 2);
        nghttp2_session_set_local_window_size(conns[i].session, NGHTTP2_FLAG_NONE, 0,
                                              1 << 24);
    }
    double start = now(), next_due = start;
    if (rate == 0)
        for (int s = 0; s < streams_per_conn; s++)
            for (int i = 0; i < n_conns && submitted < total; i++) submit(&conns[i], start);
    uint8_t buf[65536];
    while (finished < total) {
        if (rate > 0) {
            double t = now();
            while (submitted < total && next_due <= t) {
                submit(&conns[submitted % n_conns], next_due);
                next_due = start + (submitted) / rate;
            }
        }
        for (int i = 0; i < n_conns; i++) {
            if (nghttp2_session_send(conns[i].session) != 0) {
                fprintf(stderr, "send failed\n");
                return 1;
            }
            pfds[i].fd = conns[i].fd;
            pfds[i].events = POLLIN | (nghttp2_session_want_write(conns[i].session)
                                       ? POLLOUT : 0);
        }
        /* Open loop: sleep until the next call is due (ppoll: to the microsecond; a
         * millisecond poll() would spin at 2,000 calls/s). */
        struct timespec wait_for, *timeout = NULL;
        if (rate > 0 && submitted < total) {
            double wait = next_due - now();
            if (wait < 0) wait = 0;
            wait_for.tv_sec = (time_t)wait;
            wait_for.tv_nsec = (long)((wait - (double)wait_for.tv_sec) * 1e9);
            timeout = &wait_for;
        }
        if (ppoll(pfds, (nfds_t)n_conns, timeout, NULL) < 0 && errno != EINTR) die("ppoll");
        for (int i = 0; i < n_conns; i++) {
            if (!(pfds[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
            for (;;) {
                ssize_t n = recv(conns[i].fd, buf, sizeof buf, 0);
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                if (n <= 0) {
                    fprintf(stderr, "connection %d closed by the server\n", i);
                    return 1;
                }
                if (nghttp2_session_mem_recv(conns[i].session, buf, (size_t)n) < 0) {
                    fprintf(stderr, "HTTP/2 error from the server\n");
                    return 1;
                }
            }
        }
    }
    double seconds = now() - start;
    if (log_file) fclose(log_file);
    printf("calls %ld ok %ld not_ok %ld seconds %.6f\n", finished, ok_count, not_ok_count,
           seconds);
    return 0;
}
