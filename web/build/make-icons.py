"""Draws the app icons (a record on the label's navy) as PNGs with only the standard library.
Run: python3 web/build/make-icons.py  (writes public/icons/*.png)."""
import math, struct, zlib, os

def png(path, size, scale):
    navy, disc, groove, label, hole = (29, 43, 83), (17, 17, 24), (45, 45, 58), (65, 182, 196), (29, 43, 83)
    rows = []
    c = size / 2
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # 4x supersampling for smooth edges
            acc = [0, 0, 0]
            for sy in (0.125, 0.375, 0.625, 0.875):
                for sx in (0.125, 0.375, 0.625, 0.875):
                    r = math.hypot(x + sx - c, y + sy - c) / (size / 2) / scale
                    col = navy
                    if r < 0.86:
                        col = disc
                        if 0.4 < r < 0.8 and int(r * 60) % 3 == 0:
                            col = groove
                    if r < 0.34:
                        col = label
                    if r < 0.06:
                        col = hole
                    for i in range(3):
                        acc[i] += col[i]
            row += bytes(int(v / 16) for v in acc)
        rows.append(bytes(row))
    raw = zlib.compress(b''.join(rows), 9)
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', size, size, 8, 2, 0, 0, 0)) + chunk(b'IDAT', raw) + chunk(b'IEND', b''))

out = os.path.join(os.path.dirname(__file__), '../../public/icons')
os.makedirs(out, exist_ok=True)
png(os.path.join(out, 'icon-192.png'), 192, 1.0)
png(os.path.join(out, 'icon-512.png'), 512, 1.0)
# Maskable: keep the record inside the 80% safe zone.
png(os.path.join(out, 'icon-maskable-512.png'), 512, 0.78)
