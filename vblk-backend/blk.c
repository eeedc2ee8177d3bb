// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk requests (virtio 1.2, 5.2.6) served synchronously on the file:
 * data moves straight between guest memory and the file with preadv and
 * pwritev on the request's own iovecs, no bounce buffers.
 *
 * The request layout is the driver's to get wrong. Only two mistakes break
 * the queue (no header, no writable status byte: there is nowhere to
 * answer); every other one is answered with IOERR or UNSUPP.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vblk-backend/blk.h"

#define BLK_HDR_SIZE	sizeof(struct virtio_blk_outhdr)
#define BLK_SEG_SIZE	sizeof(struct virtio_blk_discard_write_zeroes)

static int blk_file_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	return -EINVAL;
}

static void blk_fill_config(struct blk_dev *b, unsigned int nqueues)
{
	struct virtio_blk_config *c = &b->config;

	memset(c, 0, sizeof(*c));
	c->capacity = b->capacity;
	c->seg_max = BLK_SEG_MAX;
	c->blk_size = VIRTIO_BLK_SECTOR_SIZE;
	c->num_queues = (uint16_t)nqueues;
	if (b->read_only)
		return;
	c->max_discard_sectors = BLK_MAX_DISCARD_SECTORS;
	c->max_discard_seg = BLK_MAX_DISCARD_SEG;
	c->discard_sector_alignment = BLK_DISCARD_ALIGN;
	c->max_write_zeroes_sectors = BLK_MAX_DISCARD_SECTORS;
	c->max_write_zeroes_seg = BLK_MAX_DISCARD_SEG;
	c->write_zeroes_may_unmap = 1;
}

int blk_init(struct blk_dev *b, int fd, bool read_only, unsigned int nqueues,
	     const char *serial)
{
	uint64_t size;
	int ret;

	memset(b, 0, sizeof(*b));
	if (serial && strlen(serial) > VIRTIO_BLK_ID_BYTES) {
		pr_err("serial '%s' is longer than %d bytes", serial,
		       VIRTIO_BLK_ID_BYTES);
		return -EINVAL;
	}
	ret = blk_file_size(fd, &size);
	if (ret) {
		pr_err("disk: not a regular file or block device, or no size: %s",
		       strerror(-ret));
		return ret;
	}
	b->fd = fd;
	b->read_only = read_only;
	b->capacity = size >> VIRTIO_BLK_SECTOR_SHIFT;
	if (size % VIRTIO_BLK_SECTOR_SIZE)
		pr_warn("disk size %llu is not a multiple of 512; the tail is not served",
			(unsigned long long)size);
	if (serial)
		memcpy(b->serial, serial, strlen(serial));
	blk_fill_config(b, nqueues);
	return 0;
}


uint64_t blk_features(const struct blk_dev *b)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
		     VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		     VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
		     VIRTIO_BIT(VIRTIO_BLK_F_MQ);

	if (b->read_only)
		return f | VIRTIO_BIT(VIRTIO_BLK_F_RO);
	return f | VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
	       VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
}

/*
 * Trims iov[0..n) in place to the bytes [skip, skip + len) and returns how
 * many iovecs that leaves. Each input gives at most one output at an index no
 * higher than its own, so the element's own array serves: no shared scratch,
 * and requests can be served on several threads at once.
 */
static unsigned int blk_slice(struct iovec *iov, unsigned int n, uint64_t skip,
			      uint64_t len)
{
	unsigned int i, out = 0;

	for (i = 0; i < n && len; i++) {
		uint64_t l = iov[i].iov_len;
		uint8_t *base = iov[i].iov_base;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		iov[out].iov_base = base + skip;
		iov[out].iov_len = l;
		out++;
		len -= l;
		skip = 0;
	}
	return out;
}

/* Reads or writes all of iov[0..n) at off; 0 or -errno. */
static int blk_rw(struct blk_dev *b, struct iovec *iov, unsigned int n,
		  uint64_t off, bool write)
{
	while (n) {
		int cnt = n > IOV_MAX ? IOV_MAX : (int)n;
		ssize_t r;

		r = write ? pwritev(b->fd, iov, cnt, (off_t)off) :
			    preadv(b->fd, iov, cnt, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;	/* the file shrank under us */
		off += (uint64_t)r;
		iov_advance(&iov, &n, (size_t)r);
	}
	return 0;
}

/* Does [sector, sector + nsect) lie on the disk? Overflow-safe. */
static bool blk_range_ok(const struct blk_dev *b, uint64_t sector, uint64_t nsect)
{
	return sector <= b->capacity && nsect <= b->capacity - sector;
}

/* IN or OUT with data bytes in iov[0..n); returns the status. */
static uint8_t blk_do_rw(struct blk_dev *b, uint64_t sector, struct iovec *iov,
			 unsigned int n, uint64_t skip, uint64_t len, bool write)
{
	int ret;

	if (len % VIRTIO_BLK_SECTOR_SIZE) {
		pr_debug("%s: %llu bytes is not whole sectors", write ? "write" : "read",
			 (unsigned long long)len);
		return VIRTIO_BLK_S_IOERR;
	}
	if (!blk_range_ok(b, sector, len >> VIRTIO_BLK_SECTOR_SHIFT)) {
		pr_debug("%s: sector %llu + %llu bytes is past the disk end",
			 write ? "write" : "read", (unsigned long long)sector,
			 (unsigned long long)len);
		return VIRTIO_BLK_S_IOERR;
	}
	if (write && b->read_only)
		return VIRTIO_BLK_S_IOERR;
	n = blk_slice(iov, n, skip, len);
	ret = blk_rw(b, iov, n, sector << VIRTIO_BLK_SECTOR_SHIFT, write);
	if (ret) {
		pr_warn("%s at sector %llu failed: %s", write ? "write" : "read",
			(unsigned long long)sector, strerror(-ret));
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_do_flush(struct blk_dev *b)
{
	if (fdatasync(b->fd) < 0) {
		pr_warn("flush failed: %m");
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* Writes zeroes the slow way, for files that cannot fallocate. */
static int blk_write_zeroes_slow(struct blk_dev *b, uint64_t off, uint64_t len)
{
	static const uint8_t zeroes[64 * 1024];

	while (len) {
		size_t chunk = len < sizeof(zeroes) ? len : sizeof(zeroes);
		ssize_t r = pwrite(b->fd, zeroes, chunk, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static int blk_fallocate(struct blk_dev *b, int mode, uint64_t off, uint64_t len)
{
	return fallocate(b->fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0 ?
	       -errno : 0;
}

/* One DISCARD or WRITE_ZEROES segment, already range-checked. */
static int blk_zero_range(struct blk_dev *b, bool discard, bool unmap,
			  uint64_t off, uint64_t len)
{
	int ret;

	if (discard) {
		ret = blk_fallocate(b, FALLOC_FL_PUNCH_HOLE, off, len);
		/* Discard is a hint: a file that cannot punch holes keeps its data. */
		return ret == -EOPNOTSUPP ? 0 : ret;
	}
	ret = -EOPNOTSUPP;
	if (unmap)
		ret = blk_fallocate(b, FALLOC_FL_PUNCH_HOLE, off, len);
	if (ret == -EOPNOTSUPP)
		ret = blk_fallocate(b, FALLOC_FL_ZERO_RANGE, off, len);
	if (ret == -EOPNOTSUPP)
		ret = blk_fallocate(b, FALLOC_FL_PUNCH_HOLE, off, len);
	if (ret == -EOPNOTSUPP)
		ret = blk_write_zeroes_slow(b, off, len);
	return ret;
}

/* Checks one segment: UNSUPP for flags we do not know, IOERR for ranges. */
static uint8_t blk_check_segment(const struct blk_dev *b, bool discard,
				 const struct virtio_blk_discard_write_zeroes *s)
{
	uint32_t allowed = discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;

	if (s->flags & ~allowed)
		return VIRTIO_BLK_S_UNSUPP;
	if (s->num_sectors > BLK_MAX_DISCARD_SECTORS ||
	    !blk_range_ok(b, s->sector, s->num_sectors))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t blk_do_discard(struct blk_dev *b, const struct vq_elem *e, bool discard)
{
	uint64_t len = e->out_len - BLK_HDR_SIZE, nseg, i;
	struct virtio_blk_discard_write_zeroes seg[BLK_MAX_DISCARD_SEG];
	uint8_t status;
	int ret;

	if (b->read_only)
		return VIRTIO_BLK_S_IOERR;
	nseg = len / BLK_SEG_SIZE;
	if (len % BLK_SEG_SIZE || nseg == 0 || nseg > BLK_MAX_DISCARD_SEG)
		return VIRTIO_BLK_S_UNSUPP;
	/* Copy and check every segment before touching the disk. */
	iov_to_buf(e->iov, e->out_num, BLK_HDR_SIZE, seg, len);
	for (i = 0; i < nseg; i++) {
		status = blk_check_segment(b, discard, &seg[i]);
		if (status != VIRTIO_BLK_S_OK)
			return status;
	}
	for (i = 0; i < nseg; i++) {
		ret = blk_zero_range(b, discard,
				     seg[i].flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP,
				     seg[i].sector << VIRTIO_BLK_SECTOR_SHIFT,
				     (uint64_t)seg[i].num_sectors << VIRTIO_BLK_SECTOR_SHIFT);
		if (ret) {
			pr_warn("%s at sector %llu failed: %s",
				discard ? "discard" : "write-zeroes",
				(unsigned long long)seg[i].sector, strerror(-ret));
			return VIRTIO_BLK_S_IOERR;
		}
	}
	return VIRTIO_BLK_S_OK;
}

/* GET_ID: the serial, zero-padded, into the writable bytes before status. */
static uint32_t blk_do_get_id(struct blk_dev *b, const struct vq_elem *e,
			      uint8_t *status)
{
	uint64_t room = e->in_len - 1;
	size_t n = room < VIRTIO_BLK_ID_BYTES ? room : VIRTIO_BLK_ID_BYTES;

	iov_from_buf(e->iov + e->out_num, e->in_num, 0, b->serial, n);
	*status = VIRTIO_BLK_S_OK;
	return (uint32_t)n;
}

/* The last writable byte: where the status goes. NULL if there is none. */
static uint8_t *blk_status_byte(const struct vq_elem *e)
{
	const struct iovec *last;

	if (e->in_num == 0 || e->in_len == 0)
		return NULL;
	last = &e->iov[e->out_num + e->in_num - 1];
	if (last->iov_len == 0)
		return NULL;
	return (uint8_t *)last->iov_base + last->iov_len - 1;
}

int blk_handle_request(struct blk_dev *b, struct vq_elem *e, uint32_t *used_len)
{
	struct virtio_blk_outhdr hdr;
	uint8_t *status_ptr = blk_status_byte(e);
	uint8_t status = VIRTIO_BLK_S_OK;
	struct iovec *in = e->iov + e->out_num;
	uint32_t written = 0;

	if (e->out_len < BLK_HDR_SIZE) {
		pr_err("virtio-blk: request header is %llu bytes, not %zu readable",
		       (unsigned long long)e->out_len, BLK_HDR_SIZE);
		return -EINVAL;
	}
	if (!status_ptr) {
		pr_err("virtio-blk: request has no writable status byte");
		return -EINVAL;
	}
	iov_to_buf(e->iov, e->out_num, 0, &hdr, sizeof(hdr));

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		status = blk_do_rw(b, hdr.sector, in, e->in_num, 0, e->in_len - 1, false);
		/* used.len is 32 bits; the driver only takes it as a hint. */
		if (status == VIRTIO_BLK_S_OK)
			written = e->in_len - 1 < UINT32_MAX ?
				  (uint32_t)(e->in_len - 1) : UINT32_MAX - 1;
		break;
	case VIRTIO_BLK_T_OUT:
		status = blk_do_rw(b, hdr.sector, e->iov, e->out_num, BLK_HDR_SIZE,
				   e->out_len - BLK_HDR_SIZE, true);
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = blk_do_flush(b);
		break;
	case VIRTIO_BLK_T_GET_ID:
		written = blk_do_get_id(b, e, &status);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = blk_do_discard(b, e, hdr.type == VIRTIO_BLK_T_DISCARD);
		break;
	default:
		pr_debug("virtio-blk: request type %u unsupported", hdr.type);
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	*status_ptr = status;
	*used_len = written + 1;
	return 0;
}

static uint64_t blk_op_features(void *dev)
{
	return blk_features(dev);
}

static uint32_t blk_op_config_size(void *dev)
{
	(void)dev;
	return sizeof(struct virtio_blk_config);
}

static void blk_op_get_config(void *dev, void *buf, uint32_t off, uint32_t len)
{
	const struct blk_dev *b = dev;

	memcpy(buf, (const uint8_t *)&b->config + off, len);
}

static int blk_op_handle_elem(void *dev, unsigned int qidx, struct vq_elem *e,
			      uint32_t *used_len)
{
	(void)qidx;
	return blk_handle_request(dev, e, used_len);
}

const struct vu_device_ops blk_device_ops = {
	.features = blk_op_features,
	.config_size = blk_op_config_size,
	.get_config = blk_op_get_config,
	.handle_elem = blk_op_handle_elem,
};
