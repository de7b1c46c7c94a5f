"""The reference KWS front end (docs/mlperf-tiny.md 1.3; mlcommons/tiny keyword_spotting get_dataset.py), with the
same TensorFlow ops: waveform / its maximum, zero-padded to 1 s; STFT (Hann, 30 ms window, 20 ms
stride, fft_length None: 512 points); magnitude; 40 mel bins over 20-4000 Hz; log(mel + 1e-6);
MFCCs, the first 10 kept: 49 x 10 per clip."""

from __future__ import annotations

import numpy as np

from tasks.kws.config import FeatureConfig


def normalise(clips: np.ndarray) -> np.ndarray:
    """Each clip divided by its maximum (tf.reduce_max: the signed maximum, as the reference does)."""
    peak = clips.max(axis=1, keepdims=True)
    return clips / np.where(peak > 0, peak, 1.0)


def mfcc(clips: np.ndarray, cfg: FeatureConfig, batch: int = 512) -> np.ndarray:
    """(N, clip_samples) float waveforms, already normalised and mixed -> (N, frames, coefficients) float32."""
    from frameworks.keras2 import tf

    out = []
    mel = None
    for i in range(0, len(clips), batch):
        x = tf.constant(clips[i:i + batch], dtype=tf.float32)
        stft = tf.signal.stft(x, frame_length=cfg.window_samples, frame_step=cfg.stride_samples, fft_length=None,
                              window_fn=tf.signal.hann_window)
        spectrum = tf.abs(stft)
        if mel is None:
            mel = tf.signal.linear_to_mel_weight_matrix(cfg.mel_bins, spectrum.shape[-1], cfg.sample_rate,
                                                        cfg.lower_hz, cfg.upper_hz)
        log_mel = tf.math.log(tf.tensordot(spectrum, mel, 1) + 1e-6)
        out.append(tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :cfg.coefficients].numpy())
    return np.concatenate(out).astype(np.float32)
