/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A generic remote PCI device: a PCI function whose model lives in another
 * process, reached over the device channel (protocol/devchan.md). The vmm
 * knows nothing of what the device is: its identity, BARs, capabilities
 * and MSI-X layout come from the peer's DEVICE message.
 *
 * The vmm keeps what needs the VM fd or must not wait for a peer: the PCI
 * header and BAR placement, the MSI-X capability, table and PBA, memory
 * slots (SHM_MAP), ioeventfds and irqfds. Other config-space and register
 * BAR accesses go to the peer on the calling vCPU's access channel.
 *
 * A peer that breaks the protocol, closes, or does not answer an access in
 * time makes the device dead, as a surprise-removed PCIe device: it reads
 * all ones and drops writes, its slots, ioeventfds and irqfds are gone, and
 * the VM keeps running.
 */
#ifndef VMM_REMOTE_PCI_H
#define VMM_REMOTE_PCI_H

#include <stdbool.h>

struct vm;
struct pci_dev;
struct remote_pci;

/*
 * Runs the handshake on ctrl (a connected control channel; taken: closed
 * on failure and by remote_pci_destroy), builds the function, puts it in
 * PCI slot (< 0: the first free one), hands the peer the VM's RAM and one
 * access channel per vCPU, and watches ctrl on vm->evbase. Call before the
 * vCPUs start. NULL on failure (logged, naming the device).
 */
struct remote_pci *remote_pci_create(struct vm *vm, const char *name, int ctrl,
				     int slot);
/* After vm_stop_device_thread (or with the loop idle): removes and frees. */
void remote_pci_destroy(struct remote_pci *rp);

struct pci_dev *remote_pci_pdev(struct remote_pci *rp);
/* True once the device is dead (reads all ones). */
bool remote_pci_dead(const struct remote_pci *rp);

#endif /* VMM_REMOTE_PCI_H */
