# Seeds for the stack's fuzz harnesses (test/fuzz/fuzz_tcpip_*): Ethernet frames to the
# harness's interface 02:00:00:00:00:01, 10.0.0.2, from 10.0.0.9. Usage: tcpip_seeds.py DIR
import struct, sys, os
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
ME = bytes([2,0,0,0,0,1]); PEER = bytes([2,0,0,0,0,9]); BC = b'\xff'*6
IPME = bytes([10,0,0,2]); IPPEER = bytes([10,0,0,9])
def eth(dst, typ, payload): return dst + PEER + struct.pack('!H', typ) + payload
def ip(proto, payload, src=IPPEER, dst=IPME, frag=0x4000):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20+len(payload), 1, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload
def pseudo(src, dst, proto, n): return src + dst + struct.pack('!BBH', 0, proto, n)
def udp(sport, dport, data, src=IPPEER, dst=IPME):
    u = struct.pack('!HHHH', sport, dport, 8+len(data), 0) + data
    c = csum(pseudo(src, dst, 17, len(u)) + u) or 0xffff
    return u[:6] + struct.pack('!H', c) + u[8:]
def tcp(sport, dport, seq, ack, flags, data=b'', mss=None, src=IPPEER, dst=IPME):
    opt = struct.pack('!BBH', 2, 4, mss) if mss else b''
    h = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, (20+len(opt))//4 << 4, flags, 8192, 0, 0) + opt + data
    c = csum(pseudo(src, dst, 6, len(h)) + h)
    return h[:16] + struct.pack('!H', c) + h[18:]
def icmp_echo(data):
    m = struct.pack('!BBHHH', 8, 0, 0, 0x1234, 1) + data
    return m[:2] + struct.pack('!H', csum(m)) + m[4:]
def arp(op, sha, spa, tha, tpa): return struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa
def dhcp(typ, xid=0x11223344):
    m = bytearray(240)
    m[0:3] = b'\x02\x01\x06'; m[4:8] = struct.pack('!I', xid); m[16:20] = IPME; m[28:34] = ME
    m[236:240] = bytes([99, 130, 83, 99])
    opts = bytes([53, 1, typ, 54, 4]) + bytes([10,0,0,1]) + bytes([1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 0, 1])
    opts += bytes([6, 8, 10, 0, 0, 53, 8, 8, 8, 8, 51, 4, 0, 0, 14, 16, 255])
    return bytes(m) + opts
seeds = {
 'dhcp_offer': eth(BC, 0x0800, ip(17, udp(67, 68, dhcp(2), src=bytes([10,0,0,1]), dst=b'\xff'*4), src=bytes([10,0,0,1]), dst=b'\xff'*4)),
 'dhcp_ack': eth(BC, 0x0800, ip(17, udp(67, 68, dhcp(5), src=bytes([10,0,0,1]), dst=b'\xff'*4), src=bytes([10,0,0,1]), dst=b'\xff'*4)),
 'arp_request': eth(BC, 0x0806, arp(1, PEER, IPPEER, b'\0'*6, IPME)),
 'arp_reply': eth(ME, 0x0806, arp(2, PEER, IPPEER, ME, IPME)),
 'icmp_echo': eth(ME, 0x0800, ip(1, icmp_echo(b'ping data'))),
 'udp_7000': eth(ME, 0x0800, ip(17, udp(5000, 7000, b'hello udp'))),
 'udp_broadcast': eth(BC, 0x0800, ip(17, udp(67, 68, b'x'*40), dst=b'\xff'*4)),
 'tcp_syn_mss': eth(ME, 0x0800, ip(6, tcp(40000, 80, 1000, 0, 0x02, mss=1460))),
 'tcp_data': eth(ME, 0x0800, ip(6, tcp(40000, 80, 1001, 5000, 0x18, b'GET / HTTP/1.1\r\n\r\n'))),
 'ip_fragment': eth(ME, 0x0800, ip(17, udp(5000, 7000, b'frag'), frag=0x2000)),
}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for k, v in seeds.items(): open(os.path.join(out, k), 'wb').write(v)
# fuzz_tcpip_stack also reads its input as frames behind 2-byte lengths, each followed by a
# byte of clock (x 10 ms): the peer announces itself, then sends a datagram and a ping
framed = b''
for k in ('arp_request', 'udp_7000', 'icmp_echo'):
    framed += struct.pack('!H', len(seeds[k])) + seeds[k] + b'\x01'
open(os.path.join(out, 'framed_sequence'), 'wb').write(framed)
# ... and a TCP peer: it announces itself, opens a connection to port 80 and sends a request
framed = b''
for k in ('arp_request', 'tcp_syn_mss', 'tcp_data'):
    framed += struct.pack('!H', len(seeds[k])) + seeds[k] + b'\x01'
open(os.path.join(out, 'framed_tcp'), 'wb').write(framed)
