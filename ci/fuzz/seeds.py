"""Seed files for ci/fuzz.sh: small WAV files of every encoding the reader takes (8/16/24/32-bit
PCM, 32/64-bit float, plain and WAVE_FORMAT_EXTENSIBLE, 1-3 channels, with and without an extra
chunk) and .npy files (float32 and int64, versions 1.0 and 2.0, 0-4 axes, an empty one). The model
seeds are real files, copied by ci/fuzz.sh.

Usage: seeds.py DIR   (writes DIR/wav and DIR/npy)
"""
import struct
import sys
from pathlib import Path

import numpy as np


def wav(path, tag, bits, channels, rate, frames, extensible, extra_chunk, rng):
    if tag == 3:
        data = rng.uniform(-1, 1, (frames, channels)).astype(np.float32 if bits == 32 else np.float64).tobytes()
    elif bits == 8:
        data = rng.integers(0, 256, (frames, channels), dtype=np.uint8).tobytes()
    elif bits == 24:
        values = rng.integers(-2**23, 2**23, frames * channels)
        data = b"".join(int(v).to_bytes(4, "little", signed=True)[:3] for v in values)
    else:
        data = rng.integers(-2**(bits - 1), 2**(bits - 1), (frames, channels), dtype={16: np.int16, 32: np.int32}[bits]).tobytes()
    align = channels * bits // 8
    if extensible:
        guid = struct.pack("<H", tag) + bytes.fromhex("000000001000800000aa00389b71")
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * align, align, bits, 22, bits, 3) + guid
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if extra_chunk:
        chunks += b"LIST" + struct.pack("<I", 4) + b"INFO"
    chunks += b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


def main():
    root = Path(sys.argv[1])
    rng = np.random.default_rng(1)
    (root / "wav").mkdir(parents=True, exist_ok=True)
    (root / "npy").mkdir(parents=True, exist_ok=True)
    i = 0
    for tag, bits in [(1, 8), (1, 16), (1, 24), (1, 32), (3, 32), (3, 64)]:
        for channels in (1, 2, 3):
            for extensible in (False, True):
                wav(root / "wav" / f"{i}.wav", tag, bits, channels, [8000, 22050, 44100, 96000][i % 4], 37 + i, extensible, i % 3 == 0, rng)
                i += 1
    j = 0
    for dtype in (np.float32, np.int64):
        for shape in [(), (3,), (2, 3), (1, 2, 3, 4), (0, 5)]:
            array = rng.standard_normal(shape).astype(dtype) if dtype == np.float32 else rng.integers(-9, 9, shape)
            for version in ((1, 0), (2, 0)):
                with open(root / "npy" / f"{j}.npy", "wb") as f:
                    np.lib.format.write_array(f, array, version=version)
                j += 1
    print(f"seeds.py: {i} WAV and {j} .npy seeds in {root}")


if __name__ == "__main__":
    main()
