/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * --vhost-user-blk SOCK: a virtio-blk PCI device (1af4:1042) whose queues
 * are served by a vhost-user back-end (vblk-backend, qemu-storage-daemon).
 *
 * The vmm only does the control path. Guest RAM is handed over as its
 * memfds; each queue's doorbell is a KVM ioeventfd whose eventfd is the
 * back-end's kick fd, and each queue's MSI-X vector is a KVM irqfd whose
 * eventfd is the back-end's call fd, so requests and completions never pass
 * through the vmm.
 *
 * If the back-end goes away, the guest's I/O stalls while the vmm retries
 * the socket every second from the device thread; on reconnect it replays
 * the connect and start sequences, resuming each ring at the used index
 * (as QEMU does when it could not fetch the base from a dead back-end).
 */
#ifndef VMM_VHOST_USER_BLK_H
#define VMM_VHOST_USER_BLK_H

struct vm;
struct vhost_user_blk;

/*
 * Connects to the back-end at sock_path, negotiates, reads its
 * configuration and puts the device on the VM's PCI bus (slot < 0: the
 * first free one). The back-end must be up at this point (it decides the
 * queue count and capacity). NULL on failure (logged).
 */
struct vhost_user_blk *vhost_user_blk_create(struct vm *vm, const char *sock_path,
					     int slot);
/* After vm_stop_device_thread: takes the device off the bus and frees it. */
void vhost_user_blk_destroy(struct vhost_user_blk *blk);

#endif /* VMM_VHOST_USER_BLK_H */
