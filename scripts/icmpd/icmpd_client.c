/* A client of rawtools icmpd in C: register a UDP socket, send one datagram,
 * print the ICMP error it caused.  It speaks protocol version 1 from its
 * description alone (README, "icmpd wire protocol"), so the tests use it as
 * a second, independent implementation of the client side.
 *
 *   cc -o icmpd_client icmpd_client.c
 *   ./icmpd_client /run/rawtools/icmpd.sock 198.18.1.2 9
 */
#include <arpa/inet.h>
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct hdr { char magic[2]; uint8_t version, type; uint32_t length; } __attribute__((packed));

static int readn(int fd, void *buf, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

/* One message: its type, its body in buf (at most 1024 bytes, the protocol's limit). */
static int next_msg(int fd, unsigned char *buf, uint32_t *len) {
    struct hdr h;
    if (readn(fd, &h, sizeof h) < 0 || memcmp(h.magic, "IE", 2) || h.version != 1) return -1;
    *len = ntohl(h.length);
    if (*len > 1024 || readn(fd, buf, *len) < 0) return -1;
    return h.type;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s SOCKET IPV4 PORT\n", argv[0]); return 2; }
    int un = socket(AF_UNIX, SOCK_STREAM, 0), udp = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    strncpy(sun.sun_path, argv[1], sizeof sun.sun_path - 1);
    if (connect(un, (struct sockaddr *)&sun, sizeof sun) < 0) { perror("connect"); return 1; }

    /* REGISTER, tag 7, with the UDP socket attached. */
    unsigned char reg[12] = { 'I', 'E', 1, 1, 0, 0, 0, 4, 0, 0, 0, 7 };
    struct iovec iov = { reg, sizeof reg };
    union { struct cmsghdr c; char space[CMSG_SPACE(sizeof(int))]; } ctl;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = ctl.space, .msg_controllen = sizeof ctl.space };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &udp, sizeof udp);
    if (sendmsg(un, &msg, 0) < 0) { perror("sendmsg"); return 1; }

    unsigned char body[1024]; uint32_t len; int32_t status;
    if (next_msg(un, body, &len) != 2 || len < 28) { fprintf(stderr, "bad answer\n"); return 1; }
    memcpy(&status, body + 4, 4);
    if (ntohl((uint32_t)status)) { fprintf(stderr, "refused: %.*s\n", (int)len - 28, body + 28); return 1; }

    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
    inet_pton(AF_INET, argv[2], &to.sin_addr);
    sendto(udp, "hello\n", 6, 0, (struct sockaddr *)&to, sizeof to);

    /* ERROR: tag@0 family@4 type@5 code@6 ttl@7 errno@8 mtu@12 dport@16 lport@18
     * rewritten@20 timestamp@24 dst@32 offender@48 local@64 dropped@80. */
    if (next_msg(un, body, &len) != 3 || len < 84) { fprintf(stderr, "no error\n"); return 1; }
    char dst[INET_ADDRSTRLEN], from[INET_ADDRSTRLEN];
    uint32_t err; uint16_t dport;
    memcpy(&err, body + 8, 4); memcpy(&dport, body + 16, 2);
    inet_ntop(AF_INET, body + 32, dst, sizeof dst);
    inet_ntop(AF_INET, body + 48, from, sizeof from);
    printf("ICMP error: dest = %s:%u, %s, type = %u, code = %u, from %s, ttl %u\n", dst,
           ntohs(dport), strerror((int)ntohl(err)), body[5], body[6], from, body[7]);
    return 0;
}
