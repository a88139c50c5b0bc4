#!/usr/bin/python3
"""Serve the project's emulated STM32 DFU bootloader to real libusb programs through umockdev.

A UMockdev.Testbed gets a fake USB device (sysfs attributes, a `descriptors` file and a
/dev/bus/usb/BBB/DDD node). A UMockdev.IoctlBase subclass answers the usbdevfs ioctls libusb
issues on that node and forwards every control transfer (setup + data) and SET_INTERFACE to
test/usb-harness/emulator-server.js (Node, the project's EmulatedBootloader) over a pipe.
COMMAND then runs with UMOCKDEV_DIR and LD_PRELOAD=libumockdev-preload.so.0 set, so its libusb
(dfu-util, node-usb 2.x) sees the board. The exit status is COMMAND's.

Hotplug at run time: COMMAND gets EMULATED_USB_CONTROL, a FIFO that takes one command a line:
  add             plug the board in (a new device number each time; a fresh bootloader session)
  remove          unplug it
  replug [MS]     remove, wait MS milliseconds (default 100), add
EMULATED_USB_STATUS names a file the shim rewrites after each change: "present BUS DEV" or "absent".

Needs Debian's python3-gi and gir1.2-umockdev-1.0 (run with /usr/bin/python3) and umockdev's
libumockdev-preload.so.0. The shim re-executes itself under that preload (umockdev 0.17 sends no
uevents otherwise, and hotplug never fires).
"""

import argparse
import errno
import json
import os
import shutil
import signal
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
# usbdevfs ioctl emulation

# struct usbdevfs_urb (LP64): type u8 @0, endpoint u8 @1, status i32 @4, flags u32 @8,
# buffer ptr @16, buffer_length i32 @24, actual_length i32 @28, ... usercontext @48; 56 bytes.
URB_SIZE = 56
URB_TYPE_CONTROL = 2
# struct usbdevfs_ctrltransfer (LP64): u8 u8 u16 u16 u16, u32 timeout, pad, data ptr @16; 24 bytes.
CTRL_SIZE = 24

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

CAP_NO_PACKET_SIZE_LIM = 0x04

IDLE_REAPS_BEFORE_THROTTLE = 64
IDLE_REAP_DELAY_MS = 2

USB_SPEED_FULL = 2  # enum usb_device_speed
EMU_OK, EMU_STALL, EMU_DISCONNECTED = 0, 1, 2


def make_handler_class(UMockdev):
    class UsbDfuIoctl(UMockdev.IoctlBase):
        """usbdevfs for one plugged-in instance of the emulated board."""

        def __init__(self, harness, busnum, devnum):
            super().__init__()
            self.harness = harness
            self.busnum = busnum
            self.devnum = devnum
            self.gone = False
            self.completed = {}  # client -> [urb IoctlData] waiting to be reaped
            self.idle_reaps = {}  # client -> empty reaps in a row
            self.stats = {'control': 0, 'ioctl': 0}  # requests served, ioctls seen, then per ioctl

        # -- helpers
        def _done(self, client, res, err=0):
            client.complete(res, err)
            return True

        def _nothing_to_reap(self, client):
            # An open usbfs node always polls writable under umockdev, so libusb's event loop asks
            # again at once: tens of thousands of REAPURBNDELAY a second while a handle sits idle.
            # After a few empty reaps in a row, answer EAGAIN a little later (without blocking the
            # main loop) so an idle handle costs next to nothing.
            count = self.idle_reaps.get(client, 0) + 1
            self.idle_reaps[client] = count
            if count < IDLE_REAPS_BEFORE_THROTTLE:
                return self._done(client, -1, errno.EAGAIN)

            def later():
                if client.get_connected():
                    client.complete(-1, errno.EAGAIN)
                return False

            self.harness.GLib.timeout_add(IDLE_REAP_DELAY_MS, later)
            return True

        def _status_result(self, client, status):
            # The kernel refuses a missing alternate setting or configuration with EINVAL itself.
            if status == EMU_OK:
                return self._done(client, 0)
            if status == EMU_STALL:
                return self._done(client, -1, errno.EINVAL)
            return self._done(client, -1, errno.ENODEV)

        def _emulate(self, call, *call_args):
            """Run one request through the emulator; returns (status, in_data)."""
            if self.gone or self.harness.server.dead:
                return EMU_DISCONNECTED, b''
            try:
                status, reason, data = call(*call_args)
            except EmulatorGone as e:
                log('emulator server failed: %s' % e)
                status, reason, data = EMU_DISCONNECTED, 'emulator server died', b''
            self.stats['control'] += 1
            if status == EMU_DISCONNECTED or reason:
                self.harness.device_vanished(self, reason or 'disconnected')
            return status, data

        def do_client_connected(self, client):
            # A host opened the node (libusb_open): the emulator's stallOnRequest counts from here.
            if self.harness.args.verbose:
                log('%s opened' % client.get_devnode())
            if not self.gone and not self.harness.server.dead:
                try:
                    self.harness.server.simple(b'O')
                except EmulatorGone:
                    pass

        # -- entry points
        def do_handle_read(self, client):
            # libusb reads descriptors from sysfs; answer a read on the node the way usbfs does.
            arg = client.get_arg()
            want = len(arg.retrieve())
            blob = self.harness.descriptors[:want]
            if blob:
                arg.update(0, blob)
            return self._done(client, len(blob))

        def do_handle_write(self, client):
            return self._done(client, -1, errno.EINVAL)

        def do_handle_ioctl(self, client):
            try:
                return self._ioctl(client)
            except Exception as e:  # never leave a client hanging on a Python error
                log('ioctl handler error: %r' % (e,))
                return self._done(client, -1, errno.EIO)

        def _ioctl(self, client):
            request = client.get_request()
            self.stats['ioctl'] += 1
            if (request >> 8) & 0xff != ord('U'):
                return self._done(client, -1, errno.ENOTTY)
            nr = request & 0xff
            name = IOCTL_NAMES.get(nr, str(nr))
            self.stats[name] = self.stats.get(name, 0) + 1
            size = (request >> 16) & 0x3fff
            arg = client.get_arg()

            if nr in (NR_REAPURB, NR_REAPURBNDELAY):
                queue = self.completed.get(client)
                if not queue:
                    if self.gone:
                        return self._done(client, -1, errno.ENODEV)
                    return self._nothing_to_reap(client)
                self.idle_reaps[client] = 0
                urb = queue.pop(0)
                slot = arg.resolve(0, 8)
                slot.set_ptr(0, urb)
                return self._done(client, 0)

            if nr == NR_DISCARDURB:
                # Every URB completes at submit time, so there is nothing left to cancel.
                return self._done(client, -1, errno.EINVAL)

            if self.gone:
                return self._done(client, -1, errno.ENODEV)

            if nr == NR_SUBMITURB:
                return self._submit_urb(client, arg)
            if nr == NR_CONTROL:
                return self._control_ioctl(client, arg)
            if nr == NR_SETINTERFACE:
                d = arg.resolve(0, 8)
                interface, alternate = struct.unpack_from('<II', bytes(d.retrieve()))
                status, _ = self._emulate(self.harness.server.set_alternate, interface, alternate)
                return self._status_result(client, status)
            if nr == NR_SETCONFIGURATION:
                d = arg.resolve(0, 4)
                (value,) = struct.unpack_from('<i', bytes(d.retrieve()))
                if value < 0:  # -1: unconfigure
                    value = 0
                status, _ = self._emulate(self.harness.server.set_configuration, value)
                return self._status_result(client, status)
            if nr in (NR_CLAIMINTERFACE, NR_RELEASEINTERFACE, NR_RESETEP,
                      NR_CLEAR_HALT, NR_DISCONNECT_CLAIM, NR_CLAIM_PORT, NR_RELEASE_PORT,
                      NR_DROP_PRIVILEGES, NR_FORBID_SUSPEND, NR_ALLOW_SUSPEND, NR_WAIT_FOR_RESUME,
                      NR_CONNECT):
                return self._done(client, 0)
            if nr in (NR_GETDRIVER, NR_IOCTL, NR_DISCONNECT):
                return self._done(client, -1, errno.ENODATA)  # no kernel driver bound
            if nr == NR_RESET:
                return self._done(client, 0)
            if nr == NR_GET_CAPABILITIES:
                d = arg.resolve(0, 4)
                d.update(0, struct.pack('<I', CAP_NO_PACKET_SIZE_LIM))
                return self._done(client, 0)
            if nr == NR_GET_SPEED:
                return self._done(client, USB_SPEED_FULL)
            if nr == NR_CONNECTINFO:
                d = arg.resolve(0, 8)
                d.update(0, struct.pack('<IB3x', self.devnum, 0))
                return self._done(client, 0)
            if nr == NR_CONNINFO_EX:
                if size < 24:
                    return self._done(client, -1, errno.EINVAL)
                d = arg.resolve(0, size)
                d.update(0, struct.pack('<IIIIB7s', 24, self.busnum, self.devnum, USB_SPEED_FULL,
                                        1, bytes([1, 0, 0, 0, 0, 0, 0])))
                return self._done(client, 0)
            if nr == NR_BULK:
                return self._done(client, -1, errno.ENOENT)  # no bulk endpoints on a DFU device
            return self._done(client, -1, errno.ENOTTY)

        def _submit_urb(self, client, arg):
            urb = arg.resolve(0, URB_SIZE)
            raw = bytes(urb.retrieve())
            urb_type, endpoint = raw[0], raw[1]
            (buffer_length,) = struct.unpack_from('<i', raw, 24)
            if urb_type != URB_TYPE_CONTROL or endpoint & 0x7f != 0 or buffer_length < 8:
                return self._done(client, -1, errno.ENOENT)
            buf = urb.resolve(16, buffer_length)
            data = bytes(buf.retrieve())
            setup = data[:8]
            request_type = setup[0]
            (w_length,) = struct.unpack_from('<H', setup, 6)
            is_in = request_type & 0x80
            out_data = b'' if is_in else data[8:8 + w_length]
            status, in_data = self._emulate(self.harness.server.control, setup, out_data)
            if status == EMU_DISCONNECTED:
                return self._done(client, -1, errno.ENODEV)
            if status == EMU_STALL:
                urb_status, actual = -errno.EPIPE, 0
            elif is_in:
                in_data = in_data[:min(w_length, buffer_length - 8)]
                if in_data:
                    buf.update(8, in_data)
                urb_status, actual = 0, len(in_data)
            else:
                urb_status, actual = 0, len(out_data)
            urb.update(4, struct.pack('<i', urb_status))
            urb.update(28, struct.pack('<i', actual))
            self.completed.setdefault(client, []).append(urb)
            self.idle_reaps[client] = 0
            return self._done(client, 0)

        def _control_ioctl(self, client, arg):
            ctrl = arg.resolve(0, CTRL_SIZE)
            raw = bytes(ctrl.retrieve())
            setup = raw[:8]
            request_type = setup[0]
            (w_length,) = struct.unpack_from('<H', setup, 6)
            is_in = request_type & 0x80
            buf = ctrl.resolve(16, w_length) if w_length else None
            out_data = b'' if is_in or buf is None else bytes(buf.retrieve())
            status, in_data = self._emulate(self.harness.server.control, setup, out_data)
            if status == EMU_DISCONNECTED:
                return self._done(client, -1, errno.ENODEV)
            if status == EMU_STALL:
                return self._done(client, -1, errno.EPIPE)
            if is_in:
                in_data = in_data[:w_length]
                if in_data and buf is not None:
                    buf.update(0, in_data)
                return self._done(client, len(in_data))
            return self._done(client, len(out_data))

        def do_client_vanished(self, client):
            self.completed.pop(client, None)
            self.idle_reaps.pop(client, None)

    return UsbDfuIoctl


# ---------------------------------------------------------------------------------------------
# The harness: testbed, device plug/unplug, control FIFO, child command

class Harness:
    def __init__(self, args, server, info):
        import gi
        gi.require_version('UMockdev', '1.0')
        from gi.repository import GLib, UMockdev
        self.GLib = GLib
        self.UMockdev = UMockdev
        self.args = args
        self.server = server
        self.info = info
        self.descriptors = bytes.fromhex(info['descriptors'])
        self.handler_class = make_handler_class(UMockdev)
        self.testbed = UMockdev.Testbed.new()
        self.root = self.testbed.get_root_dir()
        self.busnum = args.bus
        self.next_devnum = args.devnum
        self.present = None  # (syspath, devnode, handler)
        self.child_status = None
        self.loop = GLib.MainLoop()
        self.workdir = tempfile.mkdtemp(prefix='emulated-usb.')
        self.status_path = os.path.join(self.workdir, 'status')
        self.fifo_path = os.path.join(self.workdir, 'control')
        self.pending_disconnect = False
        self.plug_count = 0
        self._write_status()

    # -- device
    def _record(self, devnum):
        info = self.info
        name = '%d-1' % self.busnum
        devnode = 'bus/usb/%03d/%03d' % (self.busnum, devnum)
        minor = (self.busnum - 1) * 128 + (devnum - 1)
        attrs = {
            'busnum': str(self.busnum),
            'devnum': str(devnum),
            'devpath': '1',
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
            'BUSNUM': '%03d' % self.busnum,
            'DEVNUM': '%03d' % devnum,
            'MAJOR': '189',
            'MINOR': str(minor),
            'PRODUCT': '%x/%x/%x' % (info['vendorId'], info['productId'], info['bcdDevice']),
            'TYPE': '0/0/0',
            'ID_VENDOR_ID': '%04x' % info['vendorId'],
            'ID_MODEL_ID': '%04x' % info['productId'],
            'ID_SERIAL_SHORT': info['serialNumber'],
        }
        lines = ['P: /devices/%s' % name, 'N: %s' % devnode]
        lines += ['E: %s=%s' % kv for kv in props.items()]
        lines += ['A: %s=%s' % (k, v.replace('\\', '\\\\').replace('\n', '\\n')) for k, v in attrs.items()]
        lines.append('H: descriptors=%s' % self.descriptors.hex().upper())
        return '\n'.join(lines) + '\n', '/dev/' + devnode, devnum

    def add(self):
        if self.present:
            log('add: already present')
            return
        devnum = self.next_devnum
        self.next_devnum = devnum + 1 if devnum < 127 else 2
        if self.plug_count > 0:
            self._tell(b'N')  # plugged in again: the ROM starts afresh, flash kept
        self.plug_count += 1
        record, devnode, devnum = self._record(devnum)
        self.testbed.add_from_string(record)
        syspath = '/sys/devices/%d-1' % self.busnum
        handler = self.handler_class(self, self.busnum, devnum)
        self.testbed.attach_ioctl(devnode, handler)
        self.present = (syspath, devnode, handler)
        self._wait_for_ioctl_socket(devnode)
        self.testbed.uevent(syspath, 'add')
        self._write_status()
        if self.args.verbose:
            log('added %04x:%04x at %s' % (self.info['vendorId'], self.info['productId'], devnode))

    def _wait_for_ioctl_socket(self, devnode):
        # A client that opens the node the moment it hears the uevent must find umockdev's ioctl
        # socket listening, or the preload fails with "Failed to connect to ioctl socket" (seen on
        # a loaded machine). Let the main loop run until the socket is there.
        sock = os.path.join(self.root, 'ioctl', devnode.lstrip('/'))
        context = self.GLib.MainContext.default()
        deadline = time.monotonic() + 2.0
        while not os.path.exists(sock) and time.monotonic() < deadline:
            context.iteration(False)
            time.sleep(0.001)
        # One more turn so the listener created with the socket is accepting.
        context.iteration(False)

    def remove(self):
        if not self.present:
            log('remove: not present')
            return
        syspath, devnode, handler = self.present
        self.present = None
        handler.gone = True
        self._tell(b'U')
        # umockdev 0.17.16's remove_device() deletes sysfs before its uevent: announce it first.
        self.testbed.uevent(syspath, 'remove')
        try:
            self.testbed.detach_ioctl(devnode)
        except Exception as e:  # noqa: BLE001 - detach of a node whose clients are gone
            log('detach_ioctl: %r' % (e,))
        self.testbed.remove_device(syspath)
        node = os.path.join(self.root, devnode.lstrip('/'))
        if os.path.lexists(node):
            os.unlink(node)
        self._write_status()
        if self.args.verbose:
            log('removed %s (%d control transfers served; ioctls %s)' % (devnode, handler.stats['control'], handler.stats))

    def _tell(self, op):
        try:
            self.server.simple(op)
        except EmulatorGone as e:
            log('emulator server failed: %s' % e)

    def device_vanished(self, handler, reason):
        """The board left the bus by itself (leave, unprotect, injected fault): unplug it."""
        if self.pending_disconnect or not self.present or self.present[2] is not handler:
            return
        if self.args.verbose:
            log('device left the bus (%s)' % reason)
        handler.gone = True
        policy = self.args.on_disconnect
        if policy == 'keep':
            return
        self.pending_disconnect = True

        def later():
            self.pending_disconnect = False
            if self.present and self.present[2] is handler:
                self.remove()
                if policy.startswith('replug'):
                    delay = int(policy.split(':', 1)[1]) if ':' in policy else 500
                    self.GLib.timeout_add(delay, lambda: (self.add(), False)[1])
            return False

        # Let the current ioctl complete first.
        self.GLib.timeout_add(self.args.disconnect_delay, later)

    def _write_status(self):
        tmp = self.status_path + '.tmp'
        with open(tmp, 'w') as f:
            if self.present:
                f.write('present %d %d\n' % (self.busnum, self.present[2].devnum))
            else:
                f.write('absent\n')
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

    def _command(self, line):
        if not line:
            return
        words = line.split()
        cmd = words[0]
        if self.args.verbose:
            log('control: %s' % line)
        if cmd == 'add':
            self.add()
        elif cmd == 'remove':
            self.remove()
        elif cmd == 'replug':
            delay = int(words[1]) if len(words) > 1 else 100
            self.remove()
            self.GLib.timeout_add(delay, lambda: (self.add(), False)[1])
        else:
            log('unknown control command %r' % line)

    # -- run
    def child_env(self):
        env = dict(os.environ)
        env.pop(REEXEC_MARK, None)
        env['UMOCKDEV_DIR'] = self.root
        if PRELOAD not in env.get('LD_PRELOAD', ''):
            env['LD_PRELOAD'] = (PRELOAD + ' ' + env.get('LD_PRELOAD', '')).strip()
        env['EMULATED_USB_CONTROL'] = self.fifo_path
        env['EMULATED_USB_STATUS'] = self.status_path
        env['EMULATED_USB_PROFILE'] = self.info['name']
        return env

    def run(self, command):
        GLib = self.GLib
        self._open_fifo()
        if not self.args.start_unplugged:
            self.add()
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
        if self.present:
            try:
                self.remove()
            except Exception as e:  # noqa: BLE001
                log('remove at exit: %r' % (e,))
        for fd in (getattr(self, 'fifo_fd', None), getattr(self, 'fifo_keep', None)):
            if fd is not None:
                os.close(fd)
        shutil.rmtree(self.workdir, ignore_errors=True)
        # The Testbed's finalizer would remove its directory, but Python may never run it at exit.
        shutil.rmtree(self.root, ignore_errors=True)


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


def main():
    p = argparse.ArgumentParser(
        description='Run COMMAND with the emulated STM32 DFU bootloader attached through umockdev.',
        usage='%(prog)s [options] -- COMMAND [ARGS...]')
    p.add_argument('--profile', default='stm32f405')
    p.add_argument('--time-scale', default='0',
                   help='multiply the ROM timings by this (1 = real silicon, 0 = instant; default 0)')
    p.add_argument('--flash-in', help='initial main-flash image (exactly the flash size)')
    p.add_argument('--flash-out', help='save the main flash here when the run ends')
    p.add_argument('--faults', help='Faults JSON passed to the emulator')
    p.add_argument('--serial', help='override the profile\'s serial number')
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
    policy = args.on_disconnect
    if not (policy in ('remove', 'keep', 'replug') or (policy.startswith('replug:') and policy[7:].isdigit())):
        p.error('--on-disconnect must be remove, keep, replug or replug:MS')

    ensure_preloaded()

    server_js = find_server(args.server)
    if not server_js:
        log('emulator-server.js not found: run `npm run build` (tsc) first, or pass --server')
        return 2
    server_argv = [args.node, server_js, '--serve', '--profile', args.profile, '--time-scale', str(args.time_scale)]
    if args.flash_in:
        server_argv += ['--flash-in', args.flash_in]
    if args.flash_out:
        server_argv += ['--flash-out', args.flash_out]
    if args.faults:
        server_argv += ['--faults', args.faults]
    if args.serial:
        server_argv += ['--serial', args.serial]
    # The emulator itself runs outside the testbed.
    server_env = dict(os.environ)
    for k in ('LD_PRELOAD', 'UMOCKDEV_DIR', REEXEC_MARK):
        server_env.pop(k, None)
    server = EmulatorServer(server_argv, server_env)
    try:
        info = server.info()
    except EmulatorGone as e:
        server.proc.wait()
        log('emulator server did not start (%s)' % e)
        return 2

    harness = Harness(args, server, info)
    started = time.monotonic()
    status = 1
    try:
        status = harness.run(command)
    finally:
        harness.close()
        if not server.quit():
            log('emulator server did not shut down cleanly (flash not saved?)')
            if status == 0:
                status = 1
    if args.verbose:
        log('command exited %s after %.2f s' % (status, time.monotonic() - started))
    return status


if __name__ == '__main__':
    sys.exit(main())
