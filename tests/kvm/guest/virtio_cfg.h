/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the tiny guests' virtio drivers need of virtio-pci modern: the
 * common configuration's offsets (struct virtio_pci_common_cfg of
 * protocol/virtio.h, which a freestanding 32-bit guest cannot include) and
 * the device status bits.
 */
#ifndef TESTS_KVM_GUEST_VIRTIO_CFG_H
#define TESTS_KVM_GUEST_VIRTIO_CFG_H

#define C_DFSEL		0x00
#define C_DF		0x04
#define C_GFSEL		0x08
#define C_GF		0x0c
#define C_MSIX_CFG	0x10
#define C_NUMQ		0x12
#define C_STATUS	0x14
#define C_QSEL		0x16
#define C_QSIZE		0x18
#define C_QMSIX		0x1a
#define C_QENABLE	0x1c
#define C_QNOFF		0x1e
#define C_QDESC		0x20
#define C_QAVAIL	0x28
#define C_QUSED		0x30

#define STATUS_ACK	1
#define STATUS_DRIVER	2
#define STATUS_DRV_OK	4
#define STATUS_FEAT_OK	8

#endif /* TESTS_KVM_GUEST_VIRTIO_CFG_H */
