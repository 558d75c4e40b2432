#!/usr/bin/env bash
# The main job, end to end: build tritonpack, write a starting spec from a Triton function
# (tritonpack init), compile the shipped Triton kernels (vector add, softmax, fused attention) into
# packs, inspect them, ask which variant a launch would run and why not the others, convert
# TensorRT-LLM PluginGen's FMHA config and ask the plugin core what its shape rules mean, load the
# attention pack as a TensorRT plugin into NVIDIA's lean TensorRT runtime's plugin registry (and run
# the plugin on a GPU), run seed 01's attention block through PyTorch (tritonpack's attention as a
# torch op: ONNX export, torch.export + AOTInductor and its C++ program, checked against SDPA on a
# GPU), and launch from C++ on a GPU when there is one, checking every output against a reference.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH=/usr/local/cuda/bin:$PATH
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target tritonpack_cli
mkdir -p build/packs
echo "== tritonpack init tests/kernels/matmul/matmul.py:matmul_kernel (a tutorial-style matmul: autotune configs, a string constexpr)"
build/tritonpack init tests/kernels/matmul/matmul.py:matmul_kernel -o build/packs/matmul_init.toml --force
grep -E "^(name|kind|values|grid|\[\[configs\]\]|num_warps|# DECIDE)" build/packs/matmul_init.toml | head -24
echo "   ... (build/packs/matmul_init.toml; tests/kernels/matmul/matmul.toml is the decided spec)"
for k in vector_add softmax; do
  echo "== tritonpack compile kernels/$k/$k.toml -o build/packs/$k.tpack"
  build/tritonpack compile "kernels/$k/$k.toml" -o "build/packs/$k.tpack"
done
echo "== tritonpack inspect build/packs/softmax.tpack"
build/tritonpack inspect build/packs/softmax.tpack
softmax_values=(-t T=fp16 -a n_rows=4096 -a input_row_stride=5000 -a output_row_stride=5000 -a scale=0.125)
echo "== which variant runs 2000 columns on an H100/H200, and why not the others (no GPU needed)"
build/tritonpack run build/packs/softmax.tpack "${softmax_values[@]}" -a n_cols=2000 --explain sm_90 | grep -E "T=fp16"
echo "== 5000 columns: no block is long enough; the rule refuses every variant (never a wrong result)"
build/tritonpack run build/packs/softmax.tpack "${softmax_values[@]}" -a n_cols=5000 --explain sm_90 | grep -E "T=fp16" || true
echo "== tritonpack import-plugingen tests/plugingen/fmha_kernel_config.py -o build/packs/fmha_plugingen.toml"
build/tritonpack import-plugingen tests/plugingen/fmha_kernel_config.py -o build/packs/fmha_plugingen.toml
build/tritonpack compile build/packs/fmha_plugingen.toml -o build/packs/fmha_plugingen.tpack
echo "== tritonpack shapes build/packs/fmha_plugingen.tpack -i Q=2x4x1000x64 ... (no GPU needed)"
build/tritonpack shapes build/packs/fmha_plugingen.tpack -i Q=2x4x1000x64 -i K=2x4x1000x64 -i V=2x4x1000x64 \
  -p sm_scale=0.125 -p num_heads=4
echo "== tritonpack compile kernels/fmha/fmha.toml (tritonpack's own attention spec: L and M in the workspace)"
build/tritonpack compile kernels/fmha/fmha.toml -o build/packs/fmha.tpack
build/tritonpack shapes build/packs/fmha.tpack -i Q=1x8x4096x128:bf16 -i K=1x8x4096x128:bf16 \
  -i V=1x8x4096x128:bf16 -p sm_scale=0.0884
echo "== the fmha pack as a TensorRT plugin: NVIDIA's lean TensorRT runtime loads libtritonpack_tensorrt.so serving it"
echo "   into its plugin registry (examples/tensorrt/registry_demo; the run needs a GPU)"
lean=${TRITONPACK_TENSORRT_LEAN:-.cache/tensorrt-lean/libnvinfer_lean.so.10}
if ! ninja -C build -t query tritonpack_tensorrt_registry_demo >/dev/null 2>&1; then
  echo "== skipped: the TensorRT adapter is not built (no TensorRT headers found; set TensorRT_ROOT, docs/tensorrt.md)"
elif [ ! -f "$lean" ]; then
  echo "== skipped: no lean TensorRT runtime at $lean (scripts/setup.sh fetches it; TRITONPACK_TENSORRT_LEAN names another)"
else
  cmake --build build -j "$(nproc)" --target tritonpack_tensorrt tritonpack_tensorrt_registry_demo
  rc=0
  build/adapters/tensorrt/example/tritonpack_tensorrt_registry_demo --lean "$lean" \
    --plugins build/adapters/tensorrt/libtritonpack_tensorrt.so --pack build/packs/fmha.tpack || rc=$?
  if [ $rc -eq 77 ]; then
    echo "== (registry_demo skipped what it says above; everything before that ran)"
  elif [ $rc -ne 0 ]; then
    exit $rc
  fi
fi
echo "== seed 01's flow with PyTorch: examples/torch/attention_block.py build, then run (docs/torch.md)"
torch_py=$(sed -n 's/^TRITONPACK_TORCH_PYTHON:STRING=//p' build/CMakeCache.txt)
if ! ninja -C build -t query tritonpack_aoti_run >/dev/null 2>&1; then
  echo "== skipped: the PyTorch adapter is not built (no usable torch for ${torch_py:-python3};"
  echo "   cmake -DTRITONPACK_TORCH_PYTHON=<python with torch>, docs/torch.md): no ONNX export, AOTInductor or run"
else
  cmake --build build -j "$(nproc)" --target tritonpack_torch tritonpack_aoti_run
  mkdir -p build/attention_block
  cp build/packs/fmha.tpack build/attention_block/fmha.tpack
  torch_env=(TRITONPACK_TORCH_LIBRARY=$PWD/build/adapters/torch/libtritonpack_torch.so PYTHONPATH=$PWD/python
             TRITONPACK_CLI=$PWD/build/tritonpack TRITONPACK_AOTI_RUN=$PWD/build/examples/torch/aoti_run)
  # Without a GPU, build writes the ONNX file and says it skipped AOTInductor; run says it skipped.
  env "${torch_env[@]}" "${torch_py:-python3}" examples/torch/attention_block.py build --num-heads 8 --head-size 64 \
    --batch-size 2 --seq-len 128 --dtype fp16 2>&1 | grep -vE "Warning|^W[0-9]{4} |^\[torch.onnx\]|warnings.warn|cls.__new__"
  env "${torch_env[@]}" "${torch_py:-python3}" examples/torch/attention_block.py run --num-heads 8 --head-size 64 \
    --batch-size 2 --seq-len 128 --dtype fp16 --benchmark
fi
set +e
echo "== tritonpack run build/packs/vector_add.tpack -t T=fp16 -a n_elements=1000003 --bench 100"
build/tritonpack run build/packs/vector_add.tpack -t T=fp16 -a n_elements=1000003 --bench 100
rc=$?
if [ $rc -eq 3 ]; then
  echo "== skipped: running the kernels needs an NVIDIA GPU and driver (none here); compile and inspect ran"
  exit 0
fi
[ $rc -eq 0 ] || exit $rc
echo "== tritonpack run build/packs/softmax.tpack (bf16, scale 0.125)"
build/tritonpack run build/packs/softmax.tpack -t T=bf16 -a n_rows=4096 -a n_cols=1000 -a input_row_stride=1000 \
  -a output_row_stride=1000 -a scale=0.125 --bench 100
echo "== tritonpack run build/packs/fmha.tpack (causal attention, D=128 picks its variant by the rule D == BLOCK_DMODEL)"
build/tritonpack run build/packs/fmha.tpack -t T=bf16 -a B=2 -a H=8 -a S=1000 -a D=128 -a sm_scale=0.0884 --bench 20
