"""The harness: prove a model file right (verify), tune it (finetune), export it (TorchScript).

One concern per module: model_ref (MODEL argument → class), loading (build + strict load), mismatch
(the grouped key report, reused by `modelgen diff`), data (DATA files), fit (data vs model), inputs
(smoke-test inputs), forward_run (generate's one run, naming where a forward fails), compare
(outputs against DATA's), verify, freeze (--train patterns), head (cacheable final layers), lstsq,
adam, losses, distributed (--nproc / torchrun), finetune (orchestration), export, plot, progress,
device, keymatch (plan a remap from names and shapes), diff (`modelgen diff CKPT MODEL`) and
ckpt_diff (two checkpoints). The harness never prints and never imports the CLI (codegen/cli/ drives
it). The `--remap` format lives in codegen/remap.py, since generate uses it too.
"""
