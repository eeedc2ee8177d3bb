// SPDX-License-Identifier: GPL-2.0-only
/*
 * The remote device's control channel (protocol/devchan.md): the handshake
 * (HELLO, DEVICE, RAM_ADD and ACCESS_CHANNEL), then proxyd's requests on
 * the device thread, each answered with a REPLY. Any bad message ends the
 * device: the codec has closed its fds, we log it and close the channel.
 */
#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/devchan.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "vmm/remote_pci_int.h"
#include "vmm/vm.h"

static void set_timeout(int fd, int opt, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* --- proxyd's requests ------------------------------------------------------ */

/* The request's fd, or -1; the message holds no fd afterwards. */
static int take_fd(struct devchan_msg *m)
{
	return m->nfds ? devchan_msg_take_fd(m, 0) : -1;
}

static int handle_request(struct remote_pci *rp, struct devchan_msg *m)
{
	const union devchan_payload *p = &m->payload;

	switch (m->hdr.type) {
	case DEVCHAN_MSG_SHM_MAP:
		return remote_shm_map(rp, &p->shm_map, take_fd(m));
	case DEVCHAN_MSG_SHM_UNMAP:
		return remote_shm_unmap(rp, p->del.id);
	case DEVCHAN_MSG_IOEVENTFD_ADD:
		return remote_ioeventfd_add(rp, &p->ioeventfd_add, take_fd(m));
	case DEVCHAN_MSG_IOEVENTFD_DEL:
		return remote_ioeventfd_del(rp, p->del.id);
	case DEVCHAN_MSG_IRQFD_ADD:
		return remote_irqfd_add(rp, p->irqfd_add.id, p->irqfd_add.vector,
					take_fd(m));
	default:	/* IRQFD_DEL: the codec let no other type through */
		return remote_irqfd_del(rp, p->del.id);
	}
}

static int send_msg(struct remote_pci *rp, const struct devchan_msg *m)
{
	const char *why = NULL;
	int r = devchan_send(rp->ctrl, m, DEVCHAN_FROM_VMM, &why);

	if (r)
		remote_die(rp, "cannot send %s to the peer: %s",
			   devchan_msg_name(m->hdr.type), why ? why : strerror(-r));
	return r;
}

/* A REPLY to our oldest request; a refusal during the handshake fails it. */
static int handle_reply(struct remote_pci *rp, const struct devchan_msg *m,
			const char **why)
{
	if (rp->oldest >= rp->next_id || m->hdr.id != rp->oldest) {
		*why = "REPLY to no request of ours, or out of order";
		return -EPROTO;
	}
	rp->oldest++;
	if (m->payload.reply.status) {
		pr_err("%s: the peer refused request %llu: %s", rp->name,
		       (unsigned long long)m->hdr.id, strerror((int)m->payload.reply.status));
		rp->handshake_failed = true;
	}
	return 0;
}

/*
 * Receives and handles one message; 0, or -errno after which the channel
 * is of no more use (the device is then dead, the reason logged).
 */
static int ctrl_handle_one(struct remote_pci *rp)
{
	struct devchan_msg m, reply;
	const char *why = NULL;
	int r;

	r = devchan_recv(rp->ctrl, &m, DEVCHAN_FROM_PROXYD, &why);
	if (!r && m.hdr.type == DEVCHAN_MSG_REPLY)
		r = handle_reply(rp, &m, &why);
	else if (!r && m.hdr.type == DEVCHAN_MSG_DEVICE)
		r = -EPROTO, why = "DEVICE when no HELLO waits for it";
	else if (!r)
		r = devchan_msg_check_device(&m, &rp->dev, &why);
	if (r) {
		devchan_msg_close_fds(&m);
		if (r == -ECONNRESET)
			remote_die(rp, "the peer closed the control channel");
		else if (r == -EAGAIN)
			remote_die(rp, "the peer did not answer in time");
		else
			remote_die(rp, "devchan: bad %s from vvu-proxyd: %s",
				   devchan_msg_name(m.hdr.type), why);
		return r;
	}
	if (m.hdr.type == DEVCHAN_MSG_REPLY)
		return 0;
	r = handle_request(rp, &m);
	devchan_msg_close_fds(&m);	/* nothing is left: each handler took its fd */
	devchan_build_reply(&reply, m.hdr.id, r);
	return send_msg(rp, &reply);
}

static void ctrl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct remote_pci *rp = arg;

	(void)fd;
	(void)what;
	if (ctrl_handle_one(rp))
		remote_ctrl_close(rp);
}

int remote_ctrl_watch(struct remote_pci *rp)
{
	rp->ctrl_ev = event_new(rp->vm->evbase, rp->ctrl, EV_READ | EV_PERSIST,
				ctrl_cb, rp);
	if (!rp->ctrl_ev || event_add(rp->ctrl_ev, NULL))
		return -ENOMEM;
	return 0;
}

void remote_ctrl_close(struct remote_pci *rp)
{
	if (rp->ctrl_ev)
		event_free(rp->ctrl_ev);
	rp->ctrl_ev = NULL;
	if (rp->ctrl >= 0)
		close(rp->ctrl);
	rp->ctrl = -1;
}

/* --- the handshake ---------------------------------------------------------- */

int remote_handshake(struct remote_pci *rp)
{
	struct devchan_msg m;
	const char *why = NULL;
	int r;

	/* Blocking, bounded: the vCPUs wait for this device anyway. */
	set_timeout(rp->ctrl, SO_RCVTIMEO, REMOTE_HANDSHAKE_TIMEOUT_MS);
	set_timeout(rp->ctrl, SO_SNDTIMEO, REMOTE_ACCESS_TIMEOUT_MS);
	rp->next_id = rp->oldest = 1;
	devchan_build_hello(&m, rp->next_id++, rp->vm->ncpus);
	r = send_msg(rp, &m);
	if (r)
		return r;
	r = devchan_recv(rp->ctrl, &m, DEVCHAN_FROM_PROXYD, &why);
	if (!r && m.hdr.type == DEVCHAN_MSG_REPLY && m.hdr.id == 1) {
		pr_err("%s: the peer refused the handshake: %s", rp->name,
		       strerror((int)m.payload.reply.status));
		return -EPROTONOSUPPORT;
	}
	if (!r && (m.hdr.type != DEVCHAN_MSG_DEVICE || m.hdr.id != 1))
		r = -EPROTO, why = "not the DEVICE answering HELLO";
	if (!r && m.payload.device.version != DEVCHAN_VERSION)
		r = -EPROTO, why = "a version this vmm does not speak";
	if (r) {
		devchan_msg_close_fds(&m);
		pr_err("%s: handshake: %s%s%s", rp->name,
		       r == -EAGAIN ? "no answer in time" : why,
		       m.hdr.type ? " in " : "", m.hdr.type ? devchan_msg_name(m.hdr.type) : "");
		return r;
	}
	rp->oldest = rp->next_id;
	rp->dev = m.payload.device;
	return 0;
}

static int send_ram(struct remote_pci *rp)
{
	const struct mem_table *t = &rp->vm->mem;
	struct devchan_msg m;
	int r = 0;

	for (unsigned int i = 0; i < t->nregions && !r; i++) {
		const struct mem_region *reg = &t->regions[i];

		devchan_build_ram_add(&m, rp->next_id++, reg->gpa, reg->size,
				      reg->fd_offset, reg->fd);
		r = send_msg(rp, &m);
	}
	return r;
}

/* Our end keeps timeouts: a vCPU never waits on the peer for ever. */
static int send_access_channels(struct remote_pci *rp)
{
	struct devchan_msg m;
	int sv[2], r = 0;

	for (unsigned int i = 0; i < rp->nchan && !r; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			return -errno;
		set_timeout(sv[0], SO_RCVTIMEO, REMOTE_ACCESS_TIMEOUT_MS);
		set_timeout(sv[0], SO_SNDTIMEO, REMOTE_ACCESS_TIMEOUT_MS);
		rp->chans[i].fd = sv[0];
		devchan_build_access_channel(&m, rp->next_id++, i, sv[1]);
		r = send_msg(rp, &m);
		close(sv[1]);
	}
	return r;
}

int remote_hand_over(struct remote_pci *rp)
{
	int r = send_ram(rp);

	if (!r)
		r = send_access_channels(rp);
	/* Answers come in order, maybe after requests of proxyd's own. */
	while (!r && rp->oldest < rp->next_id && !rp->handshake_failed)
		r = ctrl_handle_one(rp);
	return r ? r : rp->handshake_failed ? -EPROTO : 0;
}
