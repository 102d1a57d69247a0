"""Synthesized test recordings of known notes, and WAV writing in every encoding clconv reads.

Tones are piano-like: eight slightly inharmonic partials, a 5 ms attack, a decay that is faster for
higher partials, a release at the note's end. Each clip is a list of (onset s, offset s, MIDI pitch,
velocity 0-1) and the samples made from it.
"""
import struct

import numpy as np


def tone(pitch, duration, velocity, rate, rng):
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    t = np.arange(int((duration + 0.08) * rate)) / rate
    out = np.zeros_like(t)
    inharmonicity = 1e-4 * rng.uniform(0.5, 1.5)
    for k in range(1, 9):
        fk = k * f0 * np.sqrt(1 + inharmonicity * k * k)
        if fk > rate / 2 * 0.9:
            break
        amplitude = k ** -1.3 * rng.uniform(0.7, 1.0)
        out += amplitude * np.exp(-t * (1.2 + 0.8 * np.sqrt(k))) * np.sin(2 * np.pi * fk * t + rng.uniform(0, 2 * np.pi))
    attack = np.minimum(1, t / 0.005)
    release = np.clip((duration + 0.08 - t) / 0.08, 0, 1)
    return velocity * out * attack * release


def render(notes, rate, rng, length=None):
    end = max(n[1] for n in notes) + 0.5
    samples = np.zeros(int((length or end) * rate))
    for onset, offset, pitch, velocity in notes:
        y = tone(pitch, offset - onset, velocity, rate, rng)
        start = int(round(onset * rate))
        y = y[: len(samples) - start]
        samples[start : start + len(y)] += y
    samples += rng.normal(0, 1e-4, len(samples))  # a faint noise floor
    return 0.8 * samples / np.max(np.abs(samples))


def clips(seed):
    """name -> (notes, seconds) for the agreement check."""
    rng = np.random.default_rng(seed)
    melody = []  # with repeated notes (Twinkle, Twinkle), slightly uneven timing
    t = 0.3
    for pitch in [60, 60, 67, 67, 69, 69, 67, 65, 65, 64, 64, 62, 62, 60]:
        length = 0.42 if pitch != 67 else 0.6
        melody.append((t, t + length - 0.07, pitch, rng.uniform(0.5, 0.9)))
        t += length + rng.uniform(-0.02, 0.02)
    chords = []
    t = 0.25
    for triad in [(48, 52, 55), (53, 57, 60), (55, 59, 62), (48, 55, 64)]:
        for pitch in triad:
            chords.append((t, t + 0.9, pitch, rng.uniform(0.6, 0.9)))
        t += 1.1
    piano = []  # a run over a held bass, across a window boundary (2 s)
    piano.append((0.2, 3.9, 36, 0.8))
    t = 0.3
    for pitch in [72, 74, 76, 77, 79, 81, 83, 84, 83, 81, 79, 77]:
        piano.append((t, t + 0.24, pitch, rng.uniform(0.5, 0.9)))
        t += 0.3
    return {"melody": melody, "chords": chords, "piano": piano}


def write_wav(path, samples, rate, kind, bits, channels=1):
    """kind "pcm" (8, 16, 24 or 32 bits) or "float" (32 or 64); channels > 1 repeats the signal
    with small per-channel gains (the mix-down is their mean)."""
    gains = [1.0] if channels == 1 else list(np.linspace(0.9, 1.1, channels))
    frames = np.stack([samples * g for g in gains], axis=1)
    if kind == "float":
        data = frames.astype("<f4" if bits == 32 else "<f8").tobytes()
        tag = 3
    else:
        scale = 2 ** (bits - 1)
        ints = np.clip(np.round(frames * scale), -scale, scale - 1).astype(np.int64)
        if bits == 8:
            data = (ints + 128).astype(np.uint8).tobytes()
        elif bits == 24:
            data = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
        else:
            data = ints.astype("<i2" if bits == 16 else "<i4").tobytes()
        tag = 1
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    if len(data) % 2:
        body += b"\0"
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)
