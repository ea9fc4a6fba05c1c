#!/usr/bin/env python3
"""ONNX Runtime quantize_static, the accuracy peer of layerq (PRODUCT.md "Benchmark protocol").

Reads the preprocessed float32 tensors that bench/export-tensors.ts writes (the very inputs
layerq sees), quantizes each model with quantize_static (QDQ format, QUInt8 activations / QInt8
weights, QInt4 weights for W4, QUInt4 activations for A4; per_channel False/True; MinMax /
Percentile / Entropy calibration, ORT's defaults otherwise) and evaluates every quantized model on
the test tensors twice: the default session (ORT's fused int8 kernels) and exact QDQ semantics
(session option session.disable_quant_qdq=1). Prints markdown tables.

Python peers only: onnxruntime, onnx, numpy are never dependencies of layerq.

Run:
  node dist/bench/export-tensors.js /tmp/layerq-acc/tensors
  python3.11 bench/peers/ort_quantize_static.py /tmp/layerq-acc/tensors \
      [--models resnet20,resnet32] [--configs w8a8-pt,w8a8-pc,w4a8-pt,w4a8-pc,w4a4-pt,w4a4-pc] \
      [--methods MinMax,Percentile,Entropy] [--calib calib50|calib32-seed0] [--test test] \
      [--work /tmp/layerq-acc/ort-models] [--threads 2] [--no-default] [--json FILE]
"""
import argparse
import contextlib
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'models'))

CONFIGS = {
    'w8a8-pt': ('W8A8 per-tensor', QuantType.QInt8, QuantType.QUInt8, False),
    'w8a8-pc': ('W8A8 per-channel', QuantType.QInt8, QuantType.QUInt8, True),
    'w4a8-pt': ('W4A8 per-tensor', QuantType.QInt4, QuantType.QUInt8, False),
    'w4a8-pc': ('W4A8 per-channel', QuantType.QInt4, QuantType.QUInt8, True),
    'w4a4-pt': ('W4A4 per-tensor', QuantType.QInt4, QuantType.QUInt4, False),
    'w4a4-pc': ('W4A4 per-channel', QuantType.QInt4, QuantType.QUInt4, True),
}
METHODS = {'MinMax': CalibrationMethod.MinMax, 'Percentile': CalibrationMethod.Percentile, 'Entropy': CalibrationMethod.Entropy}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def load_tensor(folder, header, name):
    t = header['tensors'][name]
    x = np.fromfile(os.path.join(folder, t['file']), dtype='<f4').reshape(t['dims'])
    y = np.fromfile(os.path.join(folder, t['labels']), dtype='<i4')
    assert y.shape[0] == x.shape[0], (name, x.shape, y.shape)
    return x, y


class Reader(CalibrationDataReader):
    def __init__(self, input_name, x, batch):
        self.input_name, self.x, self.batch, self.at = input_name, x, batch, 0

    def get_next(self):
        if self.at >= self.x.shape[0]:
            return None
        b = self.x[self.at:self.at + self.batch]
        self.at += self.batch
        return {self.input_name: b}

    def rewind(self):
        self.at = 0


def session(path, threads, exact):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    if exact:
        so.add_session_config_entry('session.disable_quant_qdq', '1')
    return ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])


def predict(sess, x, batch=250):
    name = sess.get_inputs()[0].name
    out = [sess.run(None, {name: x[i:i + batch]})[0] for i in range(0, x.shape[0], batch)]
    return np.concatenate(out).argmax(axis=1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('tensors')
    p.add_argument('--models', default='resnet20,resnet32')
    p.add_argument('--configs', default=','.join(CONFIGS))
    p.add_argument('--methods', default=','.join(METHODS))
    p.add_argument('--calib', default='calib50')
    p.add_argument('--test', default='test')
    p.add_argument('--calib-batch', type=int, default=50)
    p.add_argument('--work', default=None, help='folder for the quantized models (default: TENSORS/ort-models)')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--no-default', action='store_true', help='skip the default (fused) session')
    p.add_argument('--json', default=None)
    a = p.parse_args()

    with open(os.path.join(a.tensors, 'header.json')) as f:
        header = json.load(f)
    calib, _ = load_tensor(a.tensors, header, a.calib)
    xt, yt = load_tensor(a.tensors, header, a.test)
    work = a.work or os.path.join(a.tensors, 'ort-models')
    os.makedirs(work, exist_ok=True)
    configs = a.configs.split(',')
    methods = a.methods.split(',')
    log(f'onnxruntime {ort.__version__}; calibration {a.calib} {calib.shape[0]} images; {a.test} {xt.shape[0]} images')

    rows = []
    fp32 = {}
    t0 = time.time()
    for model in a.models.split(','):
        src = os.path.join(MODELS, f'{model}.onnx')
        fp32[model] = 100.0 * float((predict(session(src, a.threads, False), xt) == yt).mean())
        input_name = ort.InferenceSession(src, providers=['CPUExecutionProvider']).get_inputs()[0].name
        log(f'{model}: FP32 {fp32[model]:.2f}')
        for c in configs:
            label, wtype, atype, per_channel = CONFIGS[c]
            for m in methods:
                tc = time.time()
                dst = os.path.join(work, f'{model}.{c}.{m}.{a.calib}.qdq.onnx')
                row = {'model': model, 'config': label, 'method': m, 'fp32': fp32[model]}
                try:
                    with contextlib.redirect_stdout(sys.stderr):  # ORT prints calibration progress
                        quantize_static(
                            src, dst, Reader(input_name, calib, a.calib_batch),
                            quant_format=QuantFormat.QDQ, activation_type=atype, weight_type=wtype,
                            per_channel=per_channel, calibrate_method=METHODS[m],
                        )
                    exact = predict(session(dst, a.threads, True), xt)
                    row['exact'] = 100.0 * float((exact == yt).mean())
                    if not a.no_default:
                        fused = predict(session(dst, a.threads, False), xt)
                        row['default'] = 100.0 * float((fused == yt).mean())
                        row['agreement'] = 100.0 * float((fused == exact).mean())
                except Exception as e:  # noqa: BLE001 - report and go on
                    row['error'] = f'{type(e).__name__}: {str(e).splitlines()[0][:200]}'
                row['seconds'] = time.time() - tc
                rows.append(row)
                log(f"{model} {c} {m}: " + ', '.join(f'{k} {v:.2f}' if isinstance(v, float) else f'{k} {v}' for k, v in row.items() if k not in ('model', 'config', 'method')))

    cell = lambda r, k: f"{r[k]:.2f}" if k in r else ('error' if 'error' in r else '-')  # noqa: E731
    print(f'## ONNX Runtime {ort.__version__} quantize_static (QDQ), {a.test} split ({xt.shape[0]} images)')
    print()
    print(f"Calibration: {header['tensors'][a.calib]['source']} ({calib.shape[0]} images). "
          'Activations QUInt8 (QUInt4 for A4), weights QInt8 (QInt4 for W4), ORT defaults otherwise. '
          'Top-1 % with exact QDQ semantics (`session.disable_quant_qdq`=1); drop from FP32 in brackets.')
    print()
    for model in a.models.split(','):
        print(f'### {model} (FP32 {fp32[model]:.2f})')
        print()
        print('| configuration | ' + ' | '.join(methods) + ' |')
        print('| --- |' + ' --- |' * len(methods))
        for c in configs:
            cells = []
            for m in methods:
                r = next(r for r in rows if r['model'] == model and r['config'] == CONFIGS[c][0] and r['method'] == m)
                cells.append(f"{r['exact']:.2f} ({r['exact'] - r['fp32']:+.2f})" if 'exact' in r else 'error')
            print(f'| {CONFIGS[c][0]} | ' + ' | '.join(cells) + ' |')
        print()
    if not a.no_default:
        print('### exact QDQ vs default session (fused int8 kernels)')
        print()
        print('| model | configuration | method | FP32 | exact QDQ | default session | agreement |')
        print('| --- | --- | --- | --- | --- | --- | --- |')
    for r in rows if not a.no_default else []:
        print(f"| {r['model']} | {r['config']} | {r['method']} | {r['fp32']:.2f} | {cell(r, 'exact')} | {cell(r, 'default')} | {cell(r, 'agreement')}{'%' if 'agreement' in r else ''} |")
    errors = [r for r in rows if 'error' in r]
    if errors:
        print()
        for r in errors:
            print(f"- {r['model']} {r['config']} {r['method']}: {r['error']}")
    print()
    if 'Entropy' in methods:
        print('Entropy with the defaults (CalibNumBins 128 = num_quantized_bins 128) searches a single candidate, the full '
              'histogram range, so it returns MinMax\'s ranges: the Entropy and MinMax models are byte-identical.')
        print()
    print(f'Total {time.time() - t0:.0f} s, {a.threads} threads.')
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'calib': a.calib, 'test': a.test, 'rows': rows}, f, indent=2)


if __name__ == '__main__':
    main()
