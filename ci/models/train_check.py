"""Checks a `clconv train` run (ci/train-check.sh): the held-out accuracy of its last epoch is at
least 95%; both PNGs decode (every chunk's CRC, every row's filter); onnxruntime runs the exported
model on the sample notes and gives the trained network's logits within 1e-4 (largest absolute
difference, the logits being of order 1-10), and so does `clconv model run` on the same file."""
import re
import struct
import sys
import zlib

import numpy as np
import onnxruntime


def decode_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    position, idat, size = 8, b"", None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        crc = struct.unpack(">I", data[position + 8 + length:position + 12 + length])[0]
        assert zlib.crc32(kind + body) == crc, f"{path}: bad CRC in {kind}"
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        idat += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height = size
    raw = zlib.decompress(idat)
    assert len(raw) == height * (1 + 3 * width), f"{path}: {len(raw)} bytes for {width}x{height}"
    return width, height


def main(work):
    log = open(f"{work}/log.txt").read()
    accuracies = re.findall(r"held-out loss [0-9.]+\s+accuracy ([0-9.]+)%", log)
    assert accuracies, "no epoch lines in the log"
    final = float(accuracies[-1])
    print(f"held-out accuracy after the last epoch: {final}%")
    assert final >= 95, f"the held-out accuracy {final}% is below the 95% target"
    for name in ("curves", "filters"):
        width, height = decode_png(f"{work}/{name}.png")
        print(f"{name}.png: {width}x{height}")
    x, expected = np.load(f"{work}/x.npy"), np.load(f"{work}/y.npy")
    session = onnxruntime.InferenceSession(f"{work}/model.onnx", providers=["CPUExecutionProvider"])
    (actual,) = session.run(None, {"input": x})
    convcl = np.load(f"{work}/convcl/output.npy")
    for label, values in (("onnxruntime", actual), ("clconv model run", convcl)):
        assert values.shape == expected.shape, f"{label}: shape {values.shape}, expected {expected.shape}"
        error = float(np.max(np.abs(values.astype(np.float64) - expected)))
        print(f"{label} against the trained network: largest difference {error:.2e}")
        assert error <= 1e-4, f"{label} differs from the trained network by {error}"


if __name__ == "__main__":
    main(sys.argv[1])
