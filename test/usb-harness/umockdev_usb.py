#!/usr/bin/python3
"""Serve the project's emulated STM32 DFU bootloaders to real libusb programs through umockdev.

A UMockdev.Testbed gets one fake USB device per board (sysfs attributes, a `descriptors` file and
a /dev/bus/usb/BBB/DDD node). The harness listens on the socket that umockdev's preload library
connects to when a program opens that node, answers the usbdevfs ioctls libusb issues, and
forwards every control transfer and SET_INTERFACE to that board's own
test/usb-harness/emulator-server.js (Node, the project's EmulatedBootloader) over a pipe.
COMMAND runs with UMOCKDEV_DIR and LD_PRELOAD=libumockdev-preload.so.0 set, so its libusb
(dfu-util, node-usb 2.x) sees the boards. The exit status is COMMAND's.

The socket is served here rather than by UMockdev.IoctlBase because the preload's wire protocol
is three C `unsigned long`s a message: 8 bytes each from a 64-bit client, 4 from a 32-bit one
(armhf Node under qemu-arm), and IoctlBase only understands its own word size (it aborts on a
32-bit client). The word size is told from the client's first message; the usbdevfs struct
layout (usbdevfs_urb, usbdevfs_ctrltransfer, the void * that REAPURB fills in) from each
request's size field, as the kernel's compat layer tells them apart.

Boards: one by default (the --profile/--serial/--flash-in/... flags), or one per --board SPEC.
Board N sits at USB path 1-N (bus 1, port N) unless its spec says otherwise.

Hotplug at run time: COMMAND gets EMULATED_USB_CONTROL, a FIFO that takes one command a line:
  add [N]           plug board N (default 1) in: a new device number each time, a fresh
                    bootloader session, the flash kept
  remove [N]        unplug it
  replug [N MS]     remove, wait MS milliseconds (default 100), add; `replug MS` is board 1
EMULATED_USB_STATUS names a file the harness rewrites after each change, one line per board:
  "present BUS DEV board=N path=BUS-PORT serial=S profile=P" or "absent board=N path=... ...".

Needs Debian's python3-gi and gir1.2-umockdev-1.0 (run with /usr/bin/python3) and umockdev's
libumockdev-preload.so.0. The harness re-executes itself under that preload (umockdev 0.17 sends
no uevents otherwise, and hotplug never fires).
"""

import argparse
import errno
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

PRELOAD = 'libumockdev-preload.so.0'
REEXEC_MARK = 'FCFLASH_UMOCKDEV_SHIM_REEXEC'


def log(msg):
    sys.stderr.write('umockdev_usb: %s\n' % msg)
    sys.stderr.flush()


def ensure_preloaded():
    """Re-exec under libumockdev-preload so that testbed.uevent() reaches clients."""
    if PRELOAD in os.environ.get('LD_PRELOAD', '') or os.environ.get(REEXEC_MARK):
        return
    env = dict(os.environ)
    env['LD_PRELOAD'] = (PRELOAD + ' ' + env.get('LD_PRELOAD', '')).strip()
    env[REEXEC_MARK] = '1'
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


# ---------------------------------------------------------------------------------------------
# Node emulator server (length-prefixed binary protocol, see emulator-server.ts)

class EmulatorGone(Exception):
    pass


class EmulatorServer:
    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, bufsize=0, close_fds=True)
        self.wfd = self.proc.stdin.fileno()
        self.rfd = self.proc.stdout.fileno()
        self.dead = False

    def _read_exact(self, n):
        chunks = []
        while n > 0:
            b = os.read(self.rfd, n)
            if not b:
                raise EmulatorGone('emulator server closed its pipe')
            chunks.append(b)
            n -= len(b)
        return b''.join(chunks)

    def request(self, body):
        if self.dead:
            raise EmulatorGone('emulator server is gone')
        try:
            os.write(self.wfd, struct.pack('<I', len(body)) + body)
            (length,) = struct.unpack('<I', self._read_exact(4))
            return self._read_exact(length)
        except (OSError, EmulatorGone) as e:
            self.dead = True
            raise EmulatorGone(str(e))

    def info(self):
        return json.loads(self.request(b'I').decode())

    @staticmethod
    def _reply(reply):
        """-> (status, vanish reason or None, data) from a control-style reply."""
        status = reply[0] & 0x7f
        if reply[0] & 0x80:
            n = reply[1]
            return status, reply[2:2 + n].decode(), reply[2 + n:]
        return status, None, reply[1:]

    def control(self, setup, out_data):
        return self._reply(self.request(b'C' + setup + out_data))

    def set_alternate(self, interface, alternate):
        return self._reply(self.request(b'A' + struct.pack('<HH', interface, alternate)))

    def set_configuration(self, value):
        return self._reply(self.request(b'G' + struct.pack('<H', value)))

    def simple(self, op):
        return self.request(op)[0]

    def quit(self, timeout=10):
        status = 1
        if not self.dead:
            try:
                status = self.request(b'Q')[0]
            except EmulatorGone:
                pass
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return status == 0 and rc == 0


# ---------------------------------------------------------------------------------------------
# umockdev-preload's socket protocol (libumockdev-preload.c, remote_emulate)

REQ_IOCTL, REQ_RES, REQ_READ, REQ_WRITE = 1, 2, 7, 8
RES_DONE, RES_RUN, RES_READ_MEM, RES_WRITE_MEM = 3, 4, 5, 6
# A client that stops answering mid-request (killed, stopped in a debugger) must not hang the
# harness for good; qemu-user clients are slow, so be generous.
SOCKET_TIMEOUT_S = 30


class ClientGone(Exception):
    pass


class PreloadClient:
    """One open of a device node by a program running under libumockdev-preload.

    Each message is (cmd, arg1, arg2) as C `unsigned long`s. While the client waits for DONE it
    also serves READ_MEM (it sends the bytes at an address) and WRITE_MEM (it stores the bytes
    that follow) on the same socket.
    """

    def __init__(self, sock):
        self.sock = sock
        sock.settimeout(SOCKET_TIMEOUT_S)
        self.word = None  # 8 or 4, known after the first message
        self.closed = False
        self.busy = False  # a request is being answered (the reply may come later)

    def _recv_exact(self, n):
        chunks = []
        while n > 0:
            try:
                b = self.sock.recv(n)
            except OSError as e:  # includes socket.timeout
                raise ClientGone(str(e))
            if not b:
                return None
            chunks.append(b)
            n -= len(b)
        return b''.join(chunks)

    def _words(self, *values):
        mask = (1 << (8 * self.word)) - 1
        return struct.pack('<3Q' if self.word == 8 else '<3I', *[v & mask for v in values])

    def _send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise ClientGone(str(e))

    def read_request(self):
        """-> (cmd, arg1, arg2), or None at EOF (the client closed the node or exited)."""
        if self.word is None:
            head = self._recv_exact(12)
            if head is None:
                return None
            # A 64-bit client's cmd (1, 7 or 8) leaves bytes 4..7 zero; a 32-bit client's arg1
            # there is an ioctl request or a buffer address, never 0.
            if head[4:8] == b'\0\0\0\0':
                rest = self._recv_exact(12)
                if rest is None:
                    return None
                self.word, raw = 8, head + rest
            else:
                self.word, raw = 4, head
        else:
            raw = self._recv_exact(3 * self.word)
            if raw is None:
                return None
        return struct.unpack('<3Q' if self.word == 8 else '<3I', raw)

    def read_mem(self, addr, length):
        if length <= 0:
            return b''
        self._send(self._words(RES_READ_MEM, addr, length))
        data = self._recv_exact(length)
        if data is None:
            raise ClientGone('EOF while reading client memory')
        return data

    def write_mem(self, addr, data):
        if data:
            self._send(self._words(RES_WRITE_MEM, addr, len(data)) + bytes(data))

    def complete(self, result, err=0):
        self.busy = False
        self._send(self._words(RES_DONE, result, err))

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass


# ---------------------------------------------------------------------------------------------
# usbdevfs ioctl emulation

class Layout:
    """Offsets in the usbdevfs structs that hold pointers, for one pointer width."""

    def __init__(self, word):
        self.word = word
        self.ptr = '<Q' if word == 8 else '<I'
        # struct usbdevfs_ctrltransfer: u8 u8 u16 u16 u16, u32 timeout, [pad], void *data
        self.ctrl_size = 24 if word == 8 else 16
        self.ctrl_data = 16 if word == 8 else 12
        # struct usbdevfs_urb: u8 type, u8 endpoint, int status @4, u32 flags @8, void *buffer,
        # int buffer_length, int actual_length, ... void *usercontext, iso descs
        self.urb_size = 56 if word == 8 else 44
        self.urb_status = 4
        self.urb_buffer = 16 if word == 8 else 12
        self.urb_buffer_length = self.urb_buffer + word
        self.urb_actual_length = self.urb_buffer_length + 4


LP64 = Layout(8)
ILP32 = Layout(4)

NR_CONTROL = 0
NR_BULK = 2
NR_RESETEP = 3
NR_SETINTERFACE = 4
NR_SETCONFIGURATION = 5
NR_GETDRIVER = 8
NR_SUBMITURB = 10
NR_DISCARDURB = 11
NR_REAPURB = 12
NR_REAPURBNDELAY = 13
NR_CLAIMINTERFACE = 15
NR_RELEASEINTERFACE = 16
NR_CONNECTINFO = 17
NR_IOCTL = 18
NR_RESET = 20
NR_CLEAR_HALT = 21
NR_DISCONNECT = 22
NR_CONNECT = 23
NR_CLAIM_PORT = 24
NR_RELEASE_PORT = 25
NR_GET_CAPABILITIES = 26
NR_DISCONNECT_CLAIM = 27
NR_DROP_PRIVILEGES = 30
NR_GET_SPEED = 31
NR_CONNINFO_EX = 32
NR_FORBID_SUSPEND = 33
NR_ALLOW_SUSPEND = 34
NR_WAIT_FOR_RESUME = 35

IOCTL_NAMES = {v: k[3:] for k, v in dict(globals()).items() if k.startswith('NR_')}

# The size field of the requests whose struct holds a pointer picks the layout (as the kernel's
# compat ioctls do); the others are the same size for 32- and 64-bit clients.
LAYOUT_BY_SIZE = {
    (NR_CONTROL, 24): LP64, (NR_CONTROL, 16): ILP32,
    (NR_SUBMITURB, 56): LP64, (NR_SUBMITURB, 44): ILP32,
    (NR_REAPURB, 8): LP64, (NR_REAPURB, 4): ILP32,
    (NR_REAPURBNDELAY, 8): LP64, (NR_REAPURBNDELAY, 4): ILP32,
}

URB_TYPE_CONTROL = 2
CAP_NO_PACKET_SIZE_LIM = 0x04

IDLE_REAPS_BEFORE_THROTTLE = 64
IDLE_REAP_DELAY_MS = 2

USB_SPEED_FULL = 2  # enum usb_device_speed
EMU_OK, EMU_STALL, EMU_DISCONNECTED = 0, 1, 2


class UsbfsNode:
    """usbdevfs for one plugged-in instance of a board: its socket, its clients, their URBs."""

    def __init__(self, board, devnum, devnode, sock_path):
        self.board = board
        self.harness = board.harness
        self.GLib = board.harness.GLib
        self.devnum = devnum
        self.devnode = devnode
        self.sock_path = sock_path
        self.gone = False
        self.clients = {}  # PreloadClient -> GLib watch id
        self.completed = {}  # client -> [URB address] waiting to be reaped
        self.idle_reaps = {}  # client -> empty reaps in a row
        self.stats = {'control': 0, 'ioctl': 0}  # requests served, ioctls seen, then per ioctl
        os.makedirs(os.path.dirname(sock_path), exist_ok=True)
        if os.path.lexists(sock_path):
            os.unlink(sock_path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(sock_path)
        self.listener.listen(16)
        self.listener.setblocking(False)
        self.listen_watch = self.GLib.io_add_watch(self.listener.fileno(), self.GLib.PRIORITY_DEFAULT,
                                                   self.GLib.IO_IN, self._on_accept)

    # -- sockets
    def _on_accept(self, fd, cond):
        try:
            sock, _ = self.listener.accept()
        except (BlockingIOError, OSError):
            return True
        self._add_client(sock)
        # A host opened the node (libusb_open): the emulator's stallOnRequest counts from here.
        if self.harness.args.verbose:
            log('%s opened' % self.devnode)
        if not self.gone and not self.board.server.dead:
            try:
                self.board.server.simple(b'O')
            except EmulatorGone:
                pass
        return True

    def _add_client(self, sock):
        sock.setblocking(True)
        client = PreloadClient(sock)
        self.clients[client] = self.GLib.io_add_watch(
            sock.fileno(), self.GLib.PRIORITY_DEFAULT,
            self.GLib.IO_IN | self.GLib.IO_HUP | self.GLib.IO_ERR, self._on_client, client)

    def _on_client(self, fd, cond, client):
        if client.closed:
            return False
        if client.busy:  # the answer is still due (a deferred reap): nothing can be sent yet
            if cond & (self.GLib.IO_HUP | self.GLib.IO_ERR):
                self._drop(client)
                return False
            return True
        try:
            request = client.read_request()
            if request is None:
                self._drop(client)
                return False
            client.busy = True
            cmd, arg1, arg2 = request
            try:
                self._handle(client, cmd, arg1, arg2)
            except ClientGone:
                raise
            except Exception as e:  # never leave a client hanging on a Python error
                log('ioctl handler error: %r' % (e,))
                if client.busy:
                    client.complete(-1, errno.EIO)
        except ClientGone as e:
            if self.harness.args.verbose:
                log('%s: client went away (%s)' % (self.devnode, e))
            self._drop(client)
            return False
        return True

    def _drop(self, client):
        watch = self.clients.pop(client, None)
        if watch is not None and not client.closed:
            self.GLib.source_remove(watch)
        client.close()
        self.completed.pop(client, None)
        self.idle_reaps.pop(client, None)

    def close_listener(self):
        if self.listener is None:
            return
        # The path goes first, so an open from now on fails as on a removed node (ENOENT). A
        # connection still in the backlog is accepted and answered ENODEV: closing a listener
        # resets those, and umockdev's preload aborts the whole program on that (errno 104).
        if os.path.lexists(self.sock_path):
            os.unlink(self.sock_path)
        self.GLib.source_remove(self.listen_watch)
        while True:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, OSError):
                break
            self._add_client(sock)
        self.listener.close()
        self.listener = None

    def close(self):
        self.close_listener()
        for client in list(self.clients):
            self._drop(client)

    # -- requests
    def _handle(self, client, cmd, arg1, arg2):
        if cmd == REQ_IOCTL:
            return self._ioctl(client, arg1, arg2)
        if cmd == REQ_READ:
            # libusb reads descriptors from sysfs; answer a read on the node the way usbfs does.
            blob = self.board.descriptors[:arg2]
            client.write_mem(arg1, blob)
            return client.complete(len(blob))
        if cmd == REQ_WRITE:
            return client.complete(-1, errno.EINVAL)
        log('unknown preload request %d' % cmd)
        return client.complete(-1, errno.EINVAL)

    def _nothing_to_reap(self, client):
        # An open usbfs node always polls writable under umockdev, so libusb's event loop asks
        # again at once: tens of thousands of REAPURBNDELAY a second while a handle sits idle.
        # After a few empty reaps in a row, answer EAGAIN a little later (without blocking the
        # main loop) so an idle handle costs next to nothing.
        count = self.idle_reaps.get(client, 0) + 1
        self.idle_reaps[client] = count
        if count < IDLE_REAPS_BEFORE_THROTTLE:
            return client.complete(-1, errno.EAGAIN)

        def later():
            if not client.closed:
                try:
                    client.complete(-1, errno.EAGAIN)
                except ClientGone:
                    self._drop(client)
            return False

        self.GLib.timeout_add(IDLE_REAP_DELAY_MS, later)

    def _status_result(self, client, status):
        # The kernel refuses a missing alternate setting or configuration with EINVAL itself.
        if status == EMU_OK:
            return client.complete(0)
        if status == EMU_STALL:
            return client.complete(-1, errno.EINVAL)
        return client.complete(-1, errno.ENODEV)

    def _emulate(self, call, *call_args):
        """Run one request through the emulator; returns (status, in_data)."""
        server = self.board.server
        if self.gone or server.dead:
            return EMU_DISCONNECTED, b''
        try:
            status, reason, data = call(*call_args)
        except EmulatorGone as e:
            log('board %d: emulator server failed: %s' % (self.board.index, e))
            status, reason, data = EMU_DISCONNECTED, 'emulator server died', b''
        self.stats['control'] += 1
        if status == EMU_DISCONNECTED or reason:
            self.board.device_vanished(self, reason or 'disconnected')
        return status, data

    def _ioctl(self, client, request, argp):
        self.stats['ioctl'] += 1
        if (request >> 8) & 0xff != ord('U'):
            return client.complete(-1, errno.ENOTTY)
        nr = request & 0xff
        size = (request >> 16) & 0x3fff
        name = IOCTL_NAMES.get(nr, str(nr))
        self.stats[name] = self.stats.get(name, 0) + 1
        layout = LAYOUT_BY_SIZE.get((nr, size))
        server = self.board.server

        if nr in (NR_REAPURB, NR_REAPURBNDELAY):
            if layout is None:
                return client.complete(-1, errno.ENOTTY)
            queue = self.completed.get(client)
            if not queue:
                if self.gone:
                    return client.complete(-1, errno.ENODEV)
                return self._nothing_to_reap(client)
            self.idle_reaps[client] = 0
            client.write_mem(argp, struct.pack(layout.ptr, queue.pop(0)))
            return client.complete(0)

        if nr == NR_DISCARDURB:
            # Every URB completes at submit time, so there is nothing left to cancel.
            return client.complete(-1, errno.EINVAL)

        if self.gone:
            return client.complete(-1, errno.ENODEV)

        if nr == NR_SUBMITURB:
            if layout is None:
                return client.complete(-1, errno.ENOTTY)
            return self._submit_urb(client, layout, argp)
        if nr == NR_CONTROL:
            if layout is None:
                return client.complete(-1, errno.ENOTTY)
            return self._control_ioctl(client, layout, argp)
        if nr == NR_SETINTERFACE:
            interface, alternate = struct.unpack('<II', client.read_mem(argp, 8))
            status, _ = self._emulate(server.set_alternate, interface, alternate)
            return self._status_result(client, status)
        if nr == NR_SETCONFIGURATION:
            (value,) = struct.unpack('<i', client.read_mem(argp, 4))
            if value < 0:  # -1: unconfigure
                value = 0
            status, _ = self._emulate(server.set_configuration, value)
            return self._status_result(client, status)
        if nr in (NR_CLAIMINTERFACE, NR_DISCONNECT_CLAIM):
            # Another program may hold the interface (the claimBusy fault): the kernel says EBUSY.
            # libusb claims with DISCONNECT_CLAIM when it may detach a kernel driver; both structs
            # start with the interface number.
            try:
                held = server.request(b'K' + client.read_mem(argp, 4)[:2])[0]
            except EmulatorGone:
                return client.complete(-1, errno.ENODEV)
            return client.complete(-1, errno.EBUSY) if held else client.complete(0)
        if nr in (NR_RELEASEINTERFACE, NR_RESETEP,
                  NR_CLEAR_HALT, NR_CLAIM_PORT, NR_RELEASE_PORT,
                  NR_DROP_PRIVILEGES, NR_FORBID_SUSPEND, NR_ALLOW_SUSPEND, NR_WAIT_FOR_RESUME,
                  NR_CONNECT):
            return client.complete(0)
        if nr in (NR_GETDRIVER, NR_IOCTL, NR_DISCONNECT):
            return client.complete(-1, errno.ENODATA)  # no kernel driver bound
        if nr == NR_RESET:
            return client.complete(0)
        if nr == NR_GET_CAPABILITIES:
            client.write_mem(argp, struct.pack('<I', CAP_NO_PACKET_SIZE_LIM))
            return client.complete(0)
        if nr == NR_GET_SPEED:
            return client.complete(USB_SPEED_FULL)
        if nr == NR_CONNECTINFO:
            # struct usbdevfs_connectinfo { unsigned int devnum; unsigned char slow; }: 8 bytes
            client.write_mem(argp, struct.pack('<IB3x', self.devnum, 0))
            return client.complete(0)
        if nr == NR_CONNINFO_EX:
            if size < 24:
                return client.complete(-1, errno.EINVAL)
            board = self.board
            info = struct.pack('<IIIIB7s', 24, board.bus, self.devnum, USB_SPEED_FULL,
                               1, bytes([board.port, 0, 0, 0, 0, 0, 0]))
            client.write_mem(argp, info)
            return client.complete(0)
        if nr == NR_BULK:
            return client.complete(-1, errno.ENOENT)  # no bulk endpoints on a DFU device
        return client.complete(-1, errno.ENOTTY)

    def _submit_urb(self, client, layout, urb_addr):
        raw = client.read_mem(urb_addr, layout.urb_size)
        urb_type, endpoint = raw[0], raw[1]
        (buffer_addr,) = struct.unpack_from(layout.ptr, raw, layout.urb_buffer)
        (buffer_length,) = struct.unpack_from('<i', raw, layout.urb_buffer_length)
        if urb_type != URB_TYPE_CONTROL or endpoint & 0x7f != 0 or buffer_length < 8:
            return client.complete(-1, errno.ENOENT)
        setup = client.read_mem(buffer_addr, 8)
        request_type = setup[0]
        (w_length,) = struct.unpack_from('<H', setup, 6)
        is_in = request_type & 0x80
        out_data = b'' if is_in else client.read_mem(buffer_addr + 8, min(w_length, buffer_length - 8))
        status, in_data = self._emulate(self.board.server.control, setup, out_data)
        if status == EMU_DISCONNECTED:
            return client.complete(-1, errno.ENODEV)
        if status == EMU_STALL:
            urb_status, actual = -errno.EPIPE, 0
        elif is_in:
            in_data = in_data[:min(w_length, buffer_length - 8)]
            client.write_mem(buffer_addr + 8, in_data)
            urb_status, actual = 0, len(in_data)
        else:
            urb_status, actual = 0, len(out_data)
        client.write_mem(urb_addr + layout.urb_status, struct.pack('<i', urb_status))
        client.write_mem(urb_addr + layout.urb_actual_length, struct.pack('<i', actual))
        self.completed.setdefault(client, []).append(urb_addr)
        self.idle_reaps[client] = 0
        return client.complete(0)

    def _control_ioctl(self, client, layout, ctrl_addr):
        raw = client.read_mem(ctrl_addr, layout.ctrl_size)
        setup = raw[:8]
        request_type = setup[0]
        (w_length,) = struct.unpack_from('<H', setup, 6)
        (data_addr,) = struct.unpack_from(layout.ptr, raw, layout.ctrl_data)
        is_in = request_type & 0x80
        out_data = b'' if is_in or not data_addr else client.read_mem(data_addr, w_length)
        status, in_data = self._emulate(self.board.server.control, setup, out_data)
        if status == EMU_DISCONNECTED:
            return client.complete(-1, errno.ENODEV)
        if status == EMU_STALL:
            return client.complete(-1, errno.EPIPE)
        if is_in:
            in_data = in_data[:w_length]
            if data_addr:
                client.write_mem(data_addr, in_data)
            return client.complete(len(in_data))
        return client.complete(len(out_data))


# ---------------------------------------------------------------------------------------------
# Boards: one emulator server each, plugged in and out of the testbed

BOARD_KEYS = ('profile', 'serial', 'bus', 'port', 'flash-in', 'flash-out', 'faults', 'time-scale',
              'on-disconnect', 'unplugged')


def split_spec(text):
    """Split 'a=1,b={"x":1,"y":2},c' on the commas outside brackets and quotes."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != '\\':
                quote = None
        elif ch in '"\'':
            quote = ch
        elif ch in '{[':
            depth += 1
        elif ch in '}]':
            depth -= 1
        elif ch == ',' and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_board_spec(text):
    spec = {}
    for part in split_spec(text):
        key, eq, value = part.partition('=')
        key = key.strip()
        if key not in BOARD_KEYS:
            raise ValueError('unknown --board key %r (one of %s)' % (key, ', '.join(BOARD_KEYS)))
        if key == 'unplugged':
            spec[key] = value.strip().lower() not in ('0', 'false', 'no') if eq else True
        elif not eq or not value:
            raise ValueError('--board %s needs a value (%s=...)' % (key, key))
        else:
            spec[key] = value
    return spec


def valid_policy(policy):
    return policy in ('remove', 'keep', 'replug') or (policy.startswith('replug:') and policy[7:].isdigit())


def derived_serial(serial, index, used):
    """Board N's serial when two boards would share their profile's: the hex number plus N-1."""
    step = index - 1
    while True:
        try:
            candidate = ('%0*X' % (len(serial), int(serial, 16) + step))[-len(serial):]
        except ValueError:
            candidate = '%s-%d' % (serial, step + 1)
        if candidate not in used:
            return candidate
        step += 1


class Board:
    def __init__(self, harness, index, spec):
        self.harness = harness
        self.GLib = harness.GLib
        self.index = index
        self.spec = spec
        self.bus = int(spec['bus'])
        self.port = int(spec['port'])
        self.path = '%d-%d' % (self.bus, self.port)
        self.syspath = '/sys/devices/%s' % self.path
        self.policy = spec['on-disconnect']
        self.server = None
        self.info = None
        self.descriptors = b''
        self.present = None  # UsbfsNode while plugged in
        self.plug_count = 0
        self.pending_disconnect = False

    # -- emulator server
    def start_server(self, serial=None):
        args, spec = self.harness.args, self.spec
        argv = [args.node, self.harness.server_js, '--serve', '--profile', spec['profile'],
                '--time-scale', str(spec['time-scale'])]
        for key in ('flash-in', 'flash-out', 'faults'):
            if spec.get(key):
                argv += ['--' + key, spec[key]]
        serial = serial or spec.get('serial')
        if serial:
            argv += ['--serial', serial]
        # The emulator itself runs outside the testbed.
        env = dict(os.environ)
        for k in ('LD_PRELOAD', 'UMOCKDEV_DIR', REEXEC_MARK):
            env.pop(k, None)
        self.server = EmulatorServer(argv, env)

    def read_info(self):
        self.info = self.server.info()
        self.descriptors = bytes.fromhex(self.info['descriptors'])

    @property
    def serial(self):
        return self.info['serialNumber']

    # -- sysfs
    def _record(self, devnum):
        info = self.info
        devnode = 'bus/usb/%03d/%03d' % (self.bus, devnum)
        minor = (self.bus - 1) * 128 + (devnum - 1)
        attrs = {
            'busnum': str(self.bus),
            'devnum': str(devnum),
            'devpath': str(self.port),
            'idVendor': '%04x' % info['vendorId'],
            'idProduct': '%04x' % info['productId'],
            'bcdDevice': '%04x' % info['bcdDevice'],
            'bDeviceClass': '00',
            'bDeviceSubClass': '00',
            'bDeviceProtocol': '00',
            'bNumConfigurations': '1',
            'bConfigurationValue': '1',
            'bNumInterfaces': ' 1',
            'bMaxPacketSize0': '64',
            'bmAttributes': 'c0',
            'maxchild': '0',
            'speed': '12',
            'version': ' 2.00',
            'manufacturer': info['manufacturer'],
            'product': info['product'],
            'serial': info['serialNumber'],
            'dev': '189:%d' % minor,
        }
        props = {
            'SUBSYSTEM': 'usb',
            'DEVTYPE': 'usb_device',
            'DRIVER': 'usb',
            'DEVNAME': '/dev/' + devnode,
            'BUSNUM': '%03d' % self.bus,
            'DEVNUM': '%03d' % devnum,
            'MAJOR': '189',
            'MINOR': str(minor),
            'PRODUCT': '%x/%x/%x' % (info['vendorId'], info['productId'], info['bcdDevice']),
            'TYPE': '0/0/0',
            'ID_VENDOR_ID': '%04x' % info['vendorId'],
            'ID_MODEL_ID': '%04x' % info['productId'],
            'ID_SERIAL_SHORT': info['serialNumber'],
        }
        lines = ['P: /devices/%s' % self.path, 'N: %s' % devnode]
        lines += ['E: %s=%s' % kv for kv in props.items()]
        lines += ['A: %s=%s' % (k, v.replace('\\', '\\\\').replace('\n', '\\n')) for k, v in attrs.items()]
        lines.append('H: descriptors=%s' % self.descriptors.hex().upper())
        return '\n'.join(lines) + '\n', '/dev/' + devnode

    # -- plug and unplug
    def add(self):
        if self.present:
            log('add %d: already present' % self.index)
            return
        harness = self.harness
        devnum = harness.take_devnum(self.bus)
        if self.plug_count > 0:
            self._tell(b'N')  # plugged in again: the ROM starts afresh, flash kept
        self.plug_count += 1
        record, devnode = self._record(devnum)
        harness.testbed.add_from_string(record)
        # The socket listens before the uevent, so a client that opens the node the moment it
        # hears of it finds it (and connect() succeeds before the harness accepts).
        sock_path = os.path.join(harness.root, 'ioctl', devnode.lstrip('/'))
        self.present = UsbfsNode(self, devnum, devnode, sock_path)
        harness.testbed.uevent(self.syspath, 'add')
        harness.write_status()
        if harness.args.verbose:
            log('board %d: added %04x:%04x at %s (usb %s)' % (self.index, self.info['vendorId'],
                                                               self.info['productId'], devnode, self.path))

    def remove(self):
        if not self.present:
            log('remove %d: not present' % self.index)
            return
        harness = self.harness
        node = self.present
        self.present = None
        node.gone = True
        self._tell(b'U')
        # umockdev 0.17.16's remove_device() deletes sysfs before its uevent: announce it first.
        harness.testbed.uevent(self.syspath, 'remove')
        # Programs that still hold the node open keep their socket and get ENODEV, as from usbfs.
        node.close_listener()
        harness.closed_nodes.append(node)
        harness.testbed.remove_device(self.syspath)
        dev = os.path.join(harness.root, node.devnode.lstrip('/'))
        if os.path.lexists(dev):
            os.unlink(dev)
        harness.release_devnum(self.bus, node.devnum)
        harness.write_status()
        if harness.args.verbose:
            log('board %d: removed %s (%d control transfers served; ioctls %s)' % (
                self.index, node.devnode, node.stats['control'], node.stats))

    def replug(self, delay_ms):
        if self.present:
            self.remove()
        self.GLib.timeout_add(delay_ms, lambda: (self.add(), False)[1])

    def _tell(self, op):
        try:
            self.server.simple(op)
        except EmulatorGone as e:
            log('board %d: emulator server failed: %s' % (self.index, e))

    def device_vanished(self, node, reason):
        """The board left the bus by itself (leave, unprotect, injected fault): unplug it."""
        if self.pending_disconnect or self.present is not node:
            return
        if self.harness.args.verbose:
            log('board %d left the bus (%s)' % (self.index, reason))
        node.gone = True
        if self.policy == 'keep':
            return
        self.pending_disconnect = True

        def later():
            self.pending_disconnect = False
            if self.present is node:
                self.remove()
                if self.policy.startswith('replug'):
                    delay = int(self.policy.split(':', 1)[1]) if ':' in self.policy else 500
                    self.GLib.timeout_add(delay, lambda: (self.add(), False)[1])
            return False

        # Let the current ioctl complete first.
        self.GLib.timeout_add(self.harness.args.disconnect_delay, later)

    def status_line(self):
        tail = 'board=%d path=%s serial=%s profile=%s' % (self.index, self.path, self.serial, self.info['name'])
        if self.present:
            return 'present %d %d %s' % (self.bus, self.present.devnum, tail)
        return 'absent %s' % tail


# ---------------------------------------------------------------------------------------------
# The harness: testbed, boards, control FIFO, child command

class Harness:
    def __init__(self, args, server_js, specs):
        import gi
        gi.require_version('UMockdev', '1.0')
        from gi.repository import GLib, UMockdev
        self.GLib = GLib
        self.args = args
        self.server_js = server_js
        self.testbed = UMockdev.Testbed.new()
        self.root = self.testbed.get_root_dir()
        self.boards = [Board(self, i + 1, spec) for i, spec in enumerate(specs)]
        self.next_devnum = {}
        self.devnums_in_use = set()
        self.closed_nodes = []  # unplugged nodes whose clients may still hold them open
        self.child_status = None
        self.loop = GLib.MainLoop()
        self.workdir = tempfile.mkdtemp(prefix='emulated-usb.')
        self.status_path = os.path.join(self.workdir, 'status')
        self.fifo_path = os.path.join(self.workdir, 'control')

    def start_servers(self):
        """Start every board's emulator; False when one does not come up."""
        for board in self.boards:
            board.start_server()
        ok = True
        for board in self.boards:
            try:
                board.read_info()
            except EmulatorGone as e:
                log('board %d: emulator server did not start (%s)' % (board.index, e))
                ok = False
        if not ok:
            return False
        # Boards of one profile would share its serial number: give the later ones their own.
        used = set()
        for board in self.boards:
            if board.serial in used and not board.spec.get('serial'):
                serial = derived_serial(board.serial, board.index, used)
                board.server.quit()
                board.start_server(serial)
                try:
                    board.read_info()
                except EmulatorGone as e:
                    log('board %d: emulator server did not start (%s)' % (board.index, e))
                    return False
            used.add(board.serial)
        return True

    def take_devnum(self, bus):
        devnum = self.next_devnum.get(bus, self.args.devnum)
        for _ in range(126):
            if (bus, devnum) not in self.devnums_in_use:
                break
            devnum = devnum + 1 if devnum < 127 else 2
        self.next_devnum[bus] = devnum + 1 if devnum < 127 else 2
        self.devnums_in_use.add((bus, devnum))
        return devnum

    def release_devnum(self, bus, devnum):
        self.devnums_in_use.discard((bus, devnum))

    def write_status(self):
        tmp = self.status_path + '.tmp'
        with open(tmp, 'w') as f:
            for board in self.boards:
                f.write(board.status_line() + '\n')
        os.replace(tmp, self.status_path)

    # -- control FIFO
    def _open_fifo(self):
        os.mkfifo(self.fifo_path, 0o600)
        self.fifo_fd = os.open(self.fifo_path, os.O_RDONLY | os.O_NONBLOCK)
        # A writer of our own keeps the FIFO from reporting EOF between client writes.
        self.fifo_keep = os.open(self.fifo_path, os.O_WRONLY | os.O_NONBLOCK)
        self.fifo_buf = b''
        self.GLib.io_add_watch(self.fifo_fd, self.GLib.PRIORITY_DEFAULT, self.GLib.IO_IN, self._on_fifo)

    def _on_fifo(self, fd, cond):
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            return True
        self.fifo_buf += chunk
        while b'\n' in self.fifo_buf:
            line, self.fifo_buf = self.fifo_buf.split(b'\n', 1)
            try:
                self._command(line.decode(errors='replace').strip())
            except Exception as e:  # noqa: BLE001 - a bad line must not stop the harness
                log('control command %r failed: %r' % (line, e))
        return True

    def _board(self, word):
        index = int(word)
        if not 1 <= index <= len(self.boards):
            raise ValueError('no board %d (boards 1..%d)' % (index, len(self.boards)))
        return self.boards[index - 1]

    def _command(self, line):
        if not line:
            return
        words = line.split()
        cmd, rest = words[0], words[1:]
        if self.args.verbose:
            log('control: %s' % line)
        if cmd in ('add', 'remove') and len(rest) <= 1:
            board = self._board(rest[0]) if rest else self.boards[0]
            board.add() if cmd == 'add' else board.remove()
        elif cmd == 'replug' and len(rest) <= 2:
            # `replug MS` is board 1 (what it meant with one board); `replug N MS` names the board.
            board = self._board(rest[0]) if len(rest) == 2 else self.boards[0]
            delay = int(rest[-1]) if rest else 100
            board.replug(delay)
        else:
            log('unknown control command %r (add [N], remove [N], replug [N MS])' % line)

    # -- run
    def child_env(self):
        env = dict(os.environ)
        env.pop(REEXEC_MARK, None)
        env['UMOCKDEV_DIR'] = self.root
        if PRELOAD not in env.get('LD_PRELOAD', ''):
            env['LD_PRELOAD'] = (PRELOAD + ' ' + env.get('LD_PRELOAD', '')).strip()
        env['EMULATED_USB_CONTROL'] = self.fifo_path
        env['EMULATED_USB_STATUS'] = self.status_path
        env['EMULATED_USB_PROFILE'] = self.boards[0].info['name']
        env['EMULATED_USB_BOARDS'] = str(len(self.boards))
        return env

    def run(self, command):
        GLib = self.GLib
        self._open_fifo()
        for board in self.boards:
            if not board.spec['unplugged']:
                board.add()
        self.write_status()
        try:
            child = subprocess.Popen(command, env=self.child_env())
        except OSError as e:
            log('cannot run %s: %s' % (command[0], e))
            self.child_status = 127
            return self.child_status

        def on_exit(pid, status):
            self.child_status = os.waitstatus_to_exitcode(status)
            if self.child_status < 0:  # killed by a signal: report it the way a shell does
                self.child_status = 128 - self.child_status
            self.loop.quit()

        GLib.child_watch_add(GLib.PRIORITY_DEFAULT, child.pid, on_exit)

        def forward(signum):
            try:
                child.send_signal(signum)
            except ProcessLookupError:
                pass
            return True

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, forward, signum)
        self.loop.run()
        return self.child_status

    def close(self):
        """Unplug what is plugged in, stop the emulators; True when every flash was saved."""
        for board in self.boards:
            if board.present:
                try:
                    board.remove()
                except Exception as e:  # noqa: BLE001
                    log('remove at exit: %r' % (e,))
        for node in self.closed_nodes:
            node.close()
        for fd in (getattr(self, 'fifo_fd', None), getattr(self, 'fifo_keep', None)):
            if fd is not None:
                os.close(fd)
        shutil.rmtree(self.workdir, ignore_errors=True)
        # The Testbed's finalizer would remove its directory, but Python may never run it at exit.
        shutil.rmtree(self.root, ignore_errors=True)
        return self.quit_servers()

    def quit_servers(self):
        ok = True
        for board in self.boards:
            if board.server and not board.server.quit():
                log('board %d: emulator server did not shut down cleanly (flash not saved?)' % board.index)
                ok = False
        return ok


def find_server(explicit):
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    for candidate in (os.path.join(repo, 'build', 'test', 'usb-harness', 'emulator-server.js'),
                      os.path.join(here, 'emulator-server.js')):
        if os.path.exists(candidate):
            return candidate
    return None


def board_specs(p, args):
    """One spec per board: --board SPECs over the global defaults, or board 1 from the flags."""
    defaults = {'profile': args.profile, 'time-scale': args.time_scale, 'faults': args.faults,
                'on-disconnect': args.on_disconnect, 'unplugged': args.start_unplugged,
                'bus': str(args.bus)}
    if not args.board:
        spec = {**defaults, 'port': '1', 'serial': args.serial}
        spec['flash-in'], spec['flash-out'] = args.flash_in, args.flash_out
        specs = [spec]
    else:
        for flag, value in (('--serial', args.serial), ('--flash-in', args.flash_in), ('--flash-out', args.flash_out)):
            if value:
                p.error('%s names one board: with --board, give it in the board\'s spec (%s=...)' % (flag, flag[2:]))
        specs = []
        for i, text in enumerate(args.board):
            try:
                spec = {**defaults, 'port': str(i + 1), **parse_board_spec(text)}
            except ValueError as e:
                p.error(str(e))
            specs.append(spec)
    paths, serials = set(), set()
    for i, spec in enumerate(specs):
        for key in ('bus', 'port'):
            if not str(spec[key]).isdigit() or not 1 <= int(spec[key]) <= 127:
                p.error('board %d: %s must be a number from 1 to 127' % (i + 1, key))
        path = (int(spec['bus']), int(spec['port']))
        if path in paths:
            p.error('board %d: USB path %d-%d is taken by another board' % ((i + 1,) + path))
        paths.add(path)
        if spec.get('serial'):
            if spec['serial'] in serials:
                p.error('board %d: serial %s is taken by another board' % (i + 1, spec['serial']))
            serials.add(spec['serial'])
        if not valid_policy(spec['on-disconnect']):
            p.error('board %d: on-disconnect must be remove, keep, replug or replug:MS' % (i + 1))
        try:
            if not float(spec['time-scale']) >= 0:
                raise ValueError
        except ValueError:
            p.error('board %d: bad time-scale %r' % (i + 1, spec['time-scale']))
    return specs


def main():
    p = argparse.ArgumentParser(
        description='Run COMMAND with emulated STM32 DFU bootloaders attached through umockdev.',
        usage='%(prog)s [options] [--board SPEC ...] -- COMMAND [ARGS...]')
    p.add_argument('--profile', default='stm32f405')
    p.add_argument('--time-scale', default='0',
                   help='multiply the ROM timings by this (1 = real silicon, 0 = instant; default 0)')
    p.add_argument('--flash-in', help='initial main-flash image (exactly the flash size)')
    p.add_argument('--flash-out', help='save the main flash here when the run ends')
    p.add_argument('--faults', help='Faults JSON passed to the emulator')
    p.add_argument('--serial', help='override the profile\'s serial number')
    p.add_argument('--board', action='append', metavar='SPEC',
                   help='one board per use: comma-separated KEY=VALUE from ' + ', '.join(BOARD_KEYS) +
                   ' (profile, time-scale, faults, on-disconnect default to the flags above)')
    p.add_argument('--server', help='emulator-server.js (default: build/test/usb-harness/ of this repo)')
    p.add_argument('--node', default=os.environ.get('NODE', 'node'), help='node binary')
    p.add_argument('--bus', type=int, default=1)
    p.add_argument('--devnum', type=int, default=5, help='first device number')
    p.add_argument('--start-unplugged', action='store_true',
                   help='start without the board; plug it with "add" on $EMULATED_USB_CONTROL')
    p.add_argument('--on-disconnect', default='remove',
                   help='when the emulator reports a disconnect: remove (default), keep, replug[:MS]')
    p.add_argument('--disconnect-delay', type=int, default=20, help='ms before that removal')
    p.add_argument('-v', '--verbose', action='store_true')
    p.add_argument('command', nargs=argparse.REMAINDER)
    args = p.parse_args()
    command = args.command
    if command and command[0] == '--':
        command = command[1:]
    if not command:
        p.error('missing COMMAND (after --)')
    specs = board_specs(p, args)

    ensure_preloaded()

    server_js = find_server(args.server)
    if not server_js:
        log('emulator-server.js not found: run `npm run build` (tsc) first, or pass --server')
        return 2

    harness = Harness(args, server_js, specs)
    if not harness.start_servers():
        harness.quit_servers()
        return 2
    started = time.monotonic()
    status = 1
    saved = False
    try:
        status = harness.run(command)
    finally:
        saved = harness.close()
    if not saved and status == 0:
        status = 1
    if args.verbose:
        log('command exited %s after %.2f s' % (status, time.monotonic() - started))
    return status


if __name__ == '__main__':
    sys.exit(main())
