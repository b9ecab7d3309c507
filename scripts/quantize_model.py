"""Makes the int8 variant of a weight-only-int8 sentence-transformers ONNX
graph: folds its `Cast(int8 weight) → Mul(scale)` pairs back into float32
initializers (the same function, as a plain fp32 graph), then applies ONNX
Runtime's dynamic per-channel int8 quantization (`quantize_dynamic`), so
matrix products run on int8 with activations quantized on the fly.

    python quantize_model.py SRC_MODEL.onnx DST_MODEL.onnx
"""
import sys
import tempfile
import os

import numpy as np
import onnx
from onnx import numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic


def fold_dequantization(model):
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    producers = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    drop, fresh = set(), []
    for mul in g.node:
        if mul.op_type != "Mul" or len(mul.input) != 2:
            continue
        cast = producers.get(mul.input[0])
        scale = inits.get(mul.input[1])
        if cast is None or cast.op_type != "Cast" or scale is None:
            continue
        q = inits.get(cast.input[0])
        if q is None or len(consumers.get(cast.output[0], [])) != 1:
            continue
        w = numpy_helper.to_array(q).astype(np.float32) * numpy_helper.to_array(scale)
        fresh.append(numpy_helper.from_array(w.astype(np.float32), mul.output[0]))
        drop.update([id(cast), id(mul)])
    keep = [n for n in g.node if id(n) not in drop]
    del g.node[:]
    g.node.extend(keep)
    g.initializer.extend(fresh)
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    unused = [i for i in g.initializer if i.name not in used]
    for i in unused:
        g.initializer.remove(i)
    return len(fresh)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    model = onnx.load(src)
    folded = fold_dequantization(model)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = os.path.join(tmp, "fp32.onnx")
        onnx.save(model, fp32)
        quantize_dynamic(fp32, dst + ".tmp", per_channel=True, weight_type=QuantType.QInt8)
    os.replace(dst + ".tmp", dst)
    print(f"folded {folded} weight-only int8 tensors; wrote {dst}", file=sys.stderr)


if __name__ == "__main__":
    main()
