"""A forward graph (codegen.ir.graph) printed as the lines of a `forward` method.

The one place where dataflow becomes code. Key segments become `self.<name>` only when they are
plain identifiers, `[i]` for container indices, and `getattr(..., 'repr')` otherwise; functions and
tensor methods come from closed tables below, so no text from a checkpoint is ever printed as code.
Comments go through `safetext.comment_text`. The imports a forward needs come from the same tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from codegen.ir.graph import F_OPS, TENSOR_METHODS, TORCH_OPS, Graph, Node, Slice, Value, values_in
from codegen.render.helpers import HELPER_IMPORTS
from codegen.safetext import comment_text, is_plain_attr, string_literal

# name -> (how it prints, the import it needs). "{}" slots take the positional arguments in order.
FUNCTIONS: dict[str, tuple[str, str]] = {
    "relu": ("F.relu", "F"),
    "relu6": ("F.relu6", "F"),
    "layer_norm": ("F.layer_norm", "F"),
    "instance_norm": ("F.instance_norm", "F"),
    "rms_norm": ("F.rms_norm", "F"),
    "gelu": ("F.gelu", "F"),
    "silu": ("F.silu", "F"),
    "hardswish": ("F.hardswish", "F"),
    "mish": ("F.mish", "F"),
    "elu": ("F.elu", "F"),
    "glu": ("F.glu", "F"),  # s2s10: a gated conv subsampler (blocks/gated_conv_subsampler.py)
    "hardsigmoid": ("F.hardsigmoid", "F"),
    "sigmoid": ("torch.sigmoid", "torch"),
    "tanh": ("torch.tanh", "torch"),
    "softmax": ("F.softmax", "F"),
    "log_softmax": ("F.log_softmax", "F"),
    "adaptive_avg_pool": ("F.adaptive_avg_pool2d", "F"),
    "adaptive_max_pool": ("F.adaptive_max_pool2d", "F"),
    "max_pool1d": ("F.max_pool1d", "F"),
    "max_pool2d": ("F.max_pool2d", "F"),
    "max_pool2d_with_indices": ("F.max_pool2d_with_indices", "F"),  # (values, indices)
    "max_unpool2d": ("F.max_unpool2d", "F"),
    "max_pool3d": ("F.max_pool3d", "F"),
    "avg_pool1d": ("F.avg_pool1d", "F"),
    "avg_pool2d": ("F.avg_pool2d", "F"),
    "avg_pool3d": ("F.avg_pool3d", "F"),
    "cat": ("torch.cat", "torch"),
    "flatten": ("torch.flatten", "torch"),
    "arange": ("torch.arange", "torch"),
    "sqrt": ("math.sqrt", "math"),
    "scaled_dot_product_attention": ("F.scaled_dot_product_attention", "F"),
    "linear": ("F.linear", "F"),
    "interpolate": ("F.interpolate", "F"),
    "pad": ("F.pad", "F"),
    "leaky_relu": ("F.leaky_relu", "F"),
    "pixel_shuffle": ("F.pixel_shuffle", "F"),
    "pixel_unshuffle": ("F.pixel_unshuffle", "F"),
    "timestep_embedding": ("timestep_embedding", "helper:timestep_embedding"),
    "apply_rotary": ("apply_rotary", "helper:apply_rotary"),
    "add_if_same_shape": ("add_if_same_shape", "helper:add_if_same_shape"),
    "add_to_first_channels": ("add_to_first_channels", "helper:add_to_first_channels"),
    "avg_pool_to": ("avg_pool_to", "helper:avg_pool_to"),  # blocks/norm_free_block.py
    "pool_up_to": ("pool_up_to", "helper:pool_up_to"),  # families/features_classifier.py
    "input_if_same_shape": ("input_if_same_shape", "helper:input_if_same_shape"),
    "zero_padded_shortcut": ("zero_padded_shortcut", "helper:zero_padded_shortcut"),
    "simam": ("simam", "helper:simam"),  # blocks/residual.py's wrapped step
    "subsample_tokens": ("subsample_tokens", "helper:subsample_tokens"),  # offset attention
    "spatial_group_enhance": ("spatial_group_enhance", "helper:spatial_group_enhance"),
    "widened_shortcut": ("widened_shortcut", "helper:widened_shortcut"),  # pyramidal_residual
    "add_to_leading_channels": ("add_to_leading_channels", "helper:add_to_leading_channels"),
    "tree_root_input": ("tree_root_input", "helper:tree_root_input"),  # aggregation_tree.py
    "weight_standardized_conv2d": (
        "weight_standardized_conv2d",
        "helper:weight_standardized_conv2d",
    ),
    "latent_as_map": ("latent_as_map", "helper:latent_as_map"),
    "pad_same": ("pad_same", "helper:pad_same"),
    "pad_same_even": ("pad_same_even", "helper:pad_same_even"),
    "pad_to_like": ("pad_to_like", "helper:pad_to_like"),  # blocks/unet_level.py
    "center_crop_like": ("center_crop_like", "helper:center_crop_like"),  # blocks/unet_level.py
    "crop_like": ("crop_like", "helper:crop_like"),  # families/additive_skip_unet.py
    "apply_rotary_interleaved": ("apply_rotary_interleaved", "helper:apply_rotary_interleaved"),
    "apply_rotary_reversed": ("apply_rotary_reversed", "helper:apply_rotary_reversed"),
    "padding_mask": ("padding_mask", "helper:padding_mask"),
    "causal_padding_mask": ("causal_padding_mask", "helper:causal_padding_mask"),
    "position_temperature": ("position_temperature", "helper:position_temperature"),
    "top_k_keys": ("top_k_keys", "helper:top_k_keys"),
    "chunked_mask": ("chunked_mask", "helper:chunked_mask"),
    "alibi_bias": ("alibi_bias", "helper:alibi_bias"),
    "last_tokens": ("last_tokens", "helper:last_tokens"),
    "rms_norm_unit_offset": ("rms_norm_unit_offset", "helper:rms_norm_unit_offset"),
    "layer_norm_unit_offset": ("layer_norm_unit_offset", "helper:layer_norm_unit_offset"),
    "global_response_norm": ("global_response_norm", "helper:global_response_norm"),
    "add_positions_and_registers": (
        "add_positions_and_registers",
        "helper:add_positions_and_registers",
    ),
    "fairseq_positions": ("fairseq_positions", "helper:fairseq_positions"),
    "fairseq_padded_positions": ("fairseq_padded_positions", "helper:fairseq_padded_positions"),
    "fairseq_decoder_inputs": ("fairseq_decoder_inputs", "helper:fairseq_decoder_inputs"),
    "causal_token_mask": ("causal_token_mask", "helper:causal_token_mask"),
    "top_k_routing": ("top_k_routing", "helper:top_k_routing"),
    "expert_routing": ("expert_routing", "helper:expert_routing"),
    "clamped_swiglu": ("clamped_swiglu", "helper:clamped_swiglu"),
    "sparsemixer_routing": ("sparsemixer_routing", "helper:sparsemixer_routing"),
    "token_types": ("token_types", "helper:token_types"),
    "token_type_columns": ("token_type_columns", "helper:token_type_columns"),
    "cell_positions": ("cell_positions", "helper:cell_positions"),
    "fourier_mix": ("fourier_mix", "helper:fourier_mix"),  # FNet (blocks/fourier_mixing.py)
    "global_filter": ("global_filter", "helper:global_filter"),  # GFNet (blocks/global_filter.py)
    "token_boxes": ("token_boxes", "helper:token_boxes"),
    "zero_padding": ("zero_padding", "helper:zero_padding"),
    "mask_from_lengths": ("mask_from_lengths", "helper:mask_from_lengths"),
    "padded_positions": ("padded_positions", "helper:padded_positions"),
    "sliding_window_mask": ("sliding_window_mask", "helper:sliding_window_mask"),
    "window_band_mask": ("window_band_mask", "helper:window_band_mask"),  # dec11
    "softcapped_attention": ("softcapped_attention", "helper:softcapped_attention"),
    "sink_attention": ("sink_attention", "helper:sink_attention"),
    "relative_position_bias": ("relative_position_bias", "helper:relative_position_bias"),
    "additive_padding_mask": ("additive_padding_mask", "helper:additive_padding_mask"),
    "additive_causal_mask": ("additive_causal_mask", "helper:additive_causal_mask"),
    "sinusoidal_positions": ("sinusoidal_positions", "helper:sinusoidal_positions"),
    "fourier_positions": ("fourier_positions", "helper:fourier_positions"),  # EdgeNeXt, XCiT
    "masked_bias": ("masked_bias", "helper:masked_bias"),
    "eos_tokens": ("eos_tokens", "helper:eos_tokens"),
    "similarity_logits": ("similarity_logits", "helper:similarity_logits"),
    "grid_relative_bias": ("grid_relative_bias", "helper:grid_relative_bias"),
    "apply_rotary_table": ("apply_rotary_table", "helper:apply_rotary_table"),
    "apply_rotary_table_halves": ("apply_rotary_table_halves", "helper:apply_rotary_table_halves"),
    "axial_rope_angles": ("axial_rope_angles", "helper:axial_rope_angles"),
    "memory_or": ("memory_or", "helper:memory_or"),
    "keys_source": ("keys_source", "helper:keys_source"),
    "causal_mask": ("causal_mask", "helper:causal_mask"),
    "decoder_inputs": ("decoder_inputs", "helper:decoder_inputs"),
    # Swin's windows (patterns/blocks/window_attention.py, swin_block.py, patch_merging.py)
    "pad_to_multiple": ("pad_to_multiple", "helper:pad_to_multiple"),
    "window_for": ("window_for", "helper:window_for"),
    "window_shift": ("window_shift", "helper:window_shift"),
    "window_partition": ("window_partition", "helper:window_partition"),
    "window_merge": ("window_merge", "helper:window_merge"),
    "shifted_window_mask": ("shifted_window_mask", "helper:shifted_window_mask"),
    "window_position_bias": ("window_position_bias", "helper:window_position_bias"),
    "window_attention_bias": ("window_attention_bias", "helper:window_attention_bias"),
    "log_spaced_offsets": ("log_spaced_offsets", "helper:log_spaced_offsets"),
    "continuous_window_bias": ("continuous_window_bias", "helper:continuous_window_bias"),
    "cosine_attention": ("cosine_attention", "helper:cosine_attention"),
    "merge_patches": ("merge_patches", "helper:merge_patches"),
    # grids of patches (patterns/blocks/decomposed_attention.py, families/grid_vision.py; vit8)
    **{
        n: (n, f"helper:{n}")
        for n in ("grid_windows", "grid_merge", "decomposed_position_bias", "grid_positions")
    },
    # ConvBERT's span-based dynamic convolution (patterns/blocks/span_conv_attention.py; enc9)
    "span_dynamic_conv": ("span_dynamic_conv", "helper:span_dynamic_conv"),
    # Transformer-XL-style relative attention (patterns/blocks/xl_relative_attention.py; enc9)
    **{
        name: (name, f"helper:{name}")
        for name in (
            "relative_sinusoids",
            "relative_scores",
            "padding_or_self_mask",
        )
    },
    # LongT5's local attention (patterns/families/relative_encoder.py; audio11)
    "local_band_bias": ("local_band_bias", "helper:local_band_bias"),
    # a Conformer's relative positions (patterns/blocks/conformer.py; audio11)
    "interleaved_relative_sinusoids": (
        "interleaved_relative_sinusoids",
        "helper:interleaved_relative_sinusoids",
    ),
    # VisualBERT's visual tokens (patterns/families/visual_text.py; enc9)
    "append_regions": ("append_regions", "helper:append_regions"),
    "text_and_region_mask": ("text_and_region_mask", "helper:text_and_region_mask"),
    # patchified latent transformers (patterns/families/latent_transformer.py)
    "sincos_2d_positions": ("sincos_2d_positions", "helper:sincos_2d_positions"),
    "unpatchify": ("unpatchify", "helper:unpatchify"),
    "modulate": ("modulate", "helper:modulate"),
    # DeBERTa's disentangled attention (patterns/blocks/disentangled_attention.py)
    **{
        name: (name, f"helper:{name}")
        for name in (
            "log_bucket_positions",
            "disentangled_scores",
            "masked_softmax",
            "query_key_mask",
            "zero_masked",
            "relative_table",
        )
    },
    # rotary frequencies of the rope_types beyond the default (patterns/blocks/_rope_scaling.py)
    **{
        name: (name, f"helper:{name}")
        for name in (
            "rope_frequencies",
            "llama3_frequencies",
            "yarn_frequencies",
            "ntk_frequencies",
            "longrope_frequencies",
            "layer_frequencies",
            "apply_rotary_frequencies",
            "xielu",
            "selective_scan",  # patterns/blocks/selective_scan.py
            "multi_head_scan",  # patterns/blocks/multi_head_scan.py
            "gated_group_rms_norm",
            "linear_recurrence",  # patterns/blocks/gated_linear_recurrence.py
            "scale_segments",  # patterns/blocks/multi_head_scan.py (Falcon-H1)
            "rwkv_wkv",  # patterns/blocks/rwkv_mixing.py
            "differential_heads",  # patterns/blocks/differential_attention.py
            "dynamic_mask",  # patterns/blocks/dynamic_mask_attention.py
            "band_mask",  # patterns/blocks/banded_attention.py
            "band_padding_mask",  # att12: learned sinks in an attention both ways
            "zero_padding_queries",
            "nystrom_attention",  # patterns/blocks/landmark_attention.py
            "expectation_attention",  # patterns/blocks/expectation_attention.py
            "zero_padding_heads",
            "decayed_linear_attention",  # moe10: patterns/blocks/decayed_linear_attention.py
            "gated_delta_rule",  # lin11: patterns/blocks/gated_delta_net.py
            "top_k_softmax",  # moe10: patterns/blocks/head_experts_attention.py
            "gather_experts",
            "channel_rms_norm",  # diff13: patterns/blocks/channel_gain_norm.py
            "channel_layer_norm",
            "pixel_attention",  # diff13: patterns/blocks/pixel_attention.py
            "head_interleaved_attention",  # gen14a: patterns/blocks/pixel_sequence_attention.py
            "sinusoidal_position_embedding",  # gen14a: patterns/families/skip_stack_unet.py
            "sinusoidal_time_encoding",  # gen15c: patterns/families/timed_level_unet.py
        )
    },
}
# The torch vocabulary of codegen.ir.graph, by the name the graph uses ("torch.relu", "F.gelu").
FUNCTIONS.update({f"torch.{n}": (f"torch.{n}", "torch") for n in sorted(TORCH_OPS)})
FUNCTIONS.update({f"F.{n}": (f"F.{n}", "F") for n in sorted(F_OPS)})
# Operators: printed infix, parenthesised when nested inside another operator or a method call.
OPERATORS: dict[str, str] = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "truediv": "/",
    "floordiv": "//",
    "matmul": "@",
}
# Tensor methods; "property" ones print without a call (`x.device`).
METHODS: dict[str, str] = {
    "mean": "method",
    "amax": "method",
    "sum": "method",
    "std": "method",  # IMDN's contrast-aware channel attention (blocks/squeeze_excite.py)
    "flatten": "method",
    "transpose": "method",
    "permute": "method",
    "shape": "property",
    "reshape": "method",
    "view": "method",
    "expand": "method",
    "size": "method",
    "unsqueeze": "method",
    "squeeze": "method",
    "contiguous": "method",
    "chunk": "method",
    "split": "method",
    "repeat_interleave": "method",
    "clamp": "method",  # moe12: clamped gate and up of experts (swiglu_limit)
    "float": "method",
    "device": "property",
    "dtype": "property",
}
METHODS.update({m: "method" for m in sorted(TENSOR_METHODS) if m not in METHODS})
# A slice's end that black leaves the colon beside (empty, a name or a number, negated or not).
SIMPLE_END = re.compile(r"(-?(\w+|\d+\.\d*))?")


@dataclass
class PrintedForward:
    arguments: list[tuple[str, str]]  # (name, annotation) of the forward's parameters
    lines: list[str]  # the body, relative indentation included
    imports: set[str] = field(default_factory=set)  # "torch", "F", "math"
    defaults: dict[str, str] = field(default_factory=dict)  # name -> default, for optional ones


def print_graph(graph: Graph, dict_items: frozenset = frozenset()) -> PrintedForward:
    """`dict_items`: the paths of the class's members that are items of an nn.ModuleDict (a
    name that is no identifier is indexed there, which TorchScript follows, not `getattr`)."""
    return _Printer(graph, dict_items=dict_items).run()


class _Printer:
    def __init__(
        self, graph: Graph, loop_variables: set[str] = frozenset(), dict_items=frozenset()
    ) -> None:
        self.g = graph
        self.dict_items = dict_items
        self.loop_variables = loop_variables
        self.uses = graph.uses()
        self.last_use = _last_uses(graph, self.uses)
        self.names: dict[int, str] = {}  # node index -> variable holding its value
        self.holder: dict[str, int] = {}  # variable -> node index whose value it holds now
        self.imports: set[str] = {"torch"}
        self.lines: list[str] = []

    def run(self) -> PrintedForward:
        args, defaults = [], {}
        for i, node in enumerate(self.g.nodes):
            if node.op == "input":
                if not (is_plain_attr(node.target) and node.target != "self"):
                    raise ValueError(f"forward input {node.target!r} is not a plain identifier")
                self._bind(i, node.target)
                args.append((node.target, node.annotation))
                if node.optional:
                    defaults[node.target] = "None"
            elif node.op == "output":
                self._emit(f"return {self._expr(node.args[0])}", node.comment)
            elif self._inlined(i):
                continue
            else:
                self._statement(i, node)
        return PrintedForward(args, self.lines, self.imports, defaults)

    # -------------------------------------------------------------------------- statements

    def _inlined(self, i: int) -> bool:
        return _is_inlined(self.g, self.uses, i)

    def _statement(self, i: int, node: Node) -> None:
        if node.op == "call_module" and (node.loop or node.body is not None):
            self._loop(i, node)
            return
        if node.op == "call_module" and node.each_collect:
            args = ", ".join(self._expr(a) for a in node.args)
            name = self._name_for(i, node.name)
            self._emit(f"{name} = []", node.comment)
            self._emit(f"for layer in {self._module(node.target)}:")
            self._emit(f"    {name}.append(layer({args}))")
            self._bind(i, name)
            return
        if node.op == "call_module" and node.each_keep:
            source = self._expr(node.args[0])
            carried = self._name_for(i, "x")
            name = self._name_for(i, node.name)
            if source != carried:
                self._emit(f"{carried} = {source}")
            self._emit(f"{name} = []", node.comment)
            self._emit(f"for layer in {self._module(node.target)}:")
            self._emit(f"    {carried} = layer({carried})")
            self._emit(f"    {name}.append({carried})")
            self._bind(i, name)
            return
        if node.op == "call_module" and (node.each or node.times):
            source = self._expr(node.args[0])
            name = self._name_for(i, node.name)
            if source != name:
                self._emit(f"{name} = {source}")
            rest = "".join(f", {self._expr(a)}" for a in node.args[1:])
            indent, layer = "", self._module(node.target)
            if node.each and node.each_paired:
                var, values = node.each_paired
                if not (is_plain_attr(var) and all(type(v) is int for v in values)):
                    raise ValueError("each_paired: a plain name and a tuple of ints")
                self._emit(f"for layer, {var} in zip({layer}, {tuple(values)!r}):", node.comment)
                indent, layer, rest = "    ", "layer", f", {var}{rest}"
            elif node.each and node.each_index:  # each item also told its position
                self._emit(f"for index, layer in enumerate({layer}):", node.comment)
                indent, layer, rest = "    ", "layer", f"{rest}, index"
            elif node.each:
                values = ".values()" if node.each_values else ""
                self._emit(f"for layer in {layer}{values}:", node.comment)
                indent, layer = "    ", "layer"
            if node.times:
                comment = "" if node.each else node.comment
                self._emit(f"{indent}for _ in range({int(node.times)}):", comment)
                indent += "    "
            step = f"{layer}({name}{rest})"
            if node.each_activation:
                text, module = FUNCTIONS[node.each_activation]
                self.imports.add(module)
                step = f"{text}({step})"
            if node.each_residual:
                step = f"{name} + {step}"
            self._emit(f"{indent}{name} = {step}")
            self._bind(i, name)
            return
        expr = self._call(node)
        name = self._name_for(i, node.name)
        target = f"{name}, _" if node.unpack else name
        self._emit(f"{target} = {expr}", node.comment)
        self._bind(i, name)

    def _loop(self, i: int, node: Node) -> None:
        """The containers in step; the body printed in the loop, its result carried in `name`."""
        variables = [v for v, _ in node.loop]
        if not all(is_plain_attr(v) and v != "self" for v in variables):
            raise ValueError("loop variables must be plain identifiers")
        source = self._expr(node.args[0])
        name = self._name_for(i, node.name)
        if source != name:
            self._emit(f"{name} = {source}")
        if node.loop:
            containers = ", ".join(self._module(p) for _, p in node.loop)
            if len(node.loop) > 1:
                containers = f"zip({containers})"  # (one container is iterated as it is)
            self._emit(f"for {', '.join(variables)} in {containers}:", node.comment)
        else:  # Graph.repeat: the same modules again, a count of times
            self._emit(f"for _ in range({int(node.times)}):", node.comment)
        body = _Printer(node.body, loop_variables=set(variables), dict_items=self.dict_items)
        # The outer names stay untouched, but for the carried value, which the body may rebind.
        for held in self.holder:
            body.holder[held] = -1
        body.last_use[-1] = len(node.body.nodes) + 1
        given = [name] + [self._expr(a) for a in node.args[1:]]
        inputs = [k for k, n in enumerate(node.body.nodes) if n.op == "input"]
        for k, text in zip(inputs, given):
            body.names[k] = text
        body._bind(inputs[0], name)
        for k, n in enumerate(node.body.nodes):
            if n.op == "output":
                body._emit(f"{name} = {body._expr(n.args[0])}", n.comment)
            elif n.op != "input" and not body._inlined(k):
                body._statement(k, n)
        self.lines.extend(f"    {line}" for line in body.lines)
        self.imports |= body.imports
        self._bind(i, name)

    def _emit(self, line: str, comment: str = "") -> None:
        self.lines.append(f"{line}  # {comment_text(comment)}" if comment else line)

    def _name_for(self, i: int, preferred: str) -> str:
        """The preferred variable unless it still holds a value needed after this node."""
        base = preferred if is_plain_attr(preferred) and preferred != "self" else "x"
        name, n = base, 2
        while name in self.holder and self.last_use.get(self.holder[name], -1) > i:
            name, n = f"{base}_{n}", n + 1
        return name

    def _bind(self, i: int, name: str) -> None:
        self.names[i] = name
        self.holder[name] = i

    # -------------------------------------------------------------------------- expressions

    def _expr(self, arg: Any, nested: bool = False) -> str:
        if isinstance(arg, Value):
            if arg.index in self.names:
                return self.names[arg.index]
            node = self.g.nodes[arg.index]
            text = self._call(node)
            # an operator's operand, a method's object: a looser expression needs parentheses
            loose = (node.op == "call_function" and (_infix(node) or node.given is not None)) or (
                node.op == "call_module" and (node.optional or node.given is not None)
            )
            return f"({text})" if nested and loose else text
        if isinstance(arg, Slice):
            start = "" if arg.start is None else self._expr(arg.start)
            stop = "" if arg.stop is None else self._expr(arg.stop)
            # black's spacing: `a:b`, `:-1`, but around the colon where either end is more than
            # a name or a number (`: x.size(1)`, `n + 1 :`)
            if all(SIMPLE_END.fullmatch(end) for end in (start, stop)):
                return f"{start}:{stop}"
            return f"{start} : {stop}".strip()
        if isinstance(arg, tuple):
            inner = ", ".join(self._expr(a) for a in arg)
            return f"({inner},)" if len(arg) == 1 else f"({inner})"
        if isinstance(arg, list):
            return "[" + ", ".join(self._expr(a) for a in arg) + "]"
        if isinstance(arg, str):
            return string_literal(arg)
        if arg is None or isinstance(arg, (bool, int, float)):
            return repr(arg)
        raise TypeError(f"cannot print a {type(arg).__name__} in a forward graph")

    def _call(self, node: Node) -> str:
        if node.op == "call_module":
            module = self._module(node.target)
            call = f"{module}({self._arguments(node)})"
            if node.optional:  # None where the class was built without it: the input passes
                return f"{self._expr(node.args[0], True)} if {module} is None else {call}"
            if node.given is not None:  # run only when that input is given: else the input passes
                given = self._expr(node.given)
                return f"{self._expr(node.args[0], True)} if {given} is None else {call}"
            return call
        if node.op == "getattr":
            return self._module(node.target)
        if node.op == "constant":
            return self._expr(node.target)
        if node.op == "call_method":
            return self._method(node)
        if node.op == "call_function" and node.given is not None:  # as a module's, above
            given, call = self._expr(node.given), self._function(node)
            return f"{self._expr(node.args[0], True)} if {given} is None else {call}"
        if node.op == "call_function":
            return self._function(node)
        raise ValueError(f"cannot print a {node.op} node as an expression")

    def _function(self, node: Node) -> str:
        if node.target in OPERATORS:
            left, right = node.args
            return f"{self._expr(left, True)} {OPERATORS[node.target]} {self._expr(right, True)}"
        if node.target == "getitem":
            obj, index = node.args
            inner = (
                ", ".join(self._expr(i) for i in index)
                if isinstance(index, tuple)
                else self._expr(index)
            )
            return f"{self._expr(obj, True)}[{inner}]"
        if node.target not in FUNCTIONS:
            raise ValueError(f"{node.target!r} is not in the forward printer's function table")
        text, module = FUNCTIONS[node.target]
        self.imports.add(module)
        self.imports.update(HELPER_IMPORTS.get(node.target, ()))
        return f"{text}({self._arguments(node)})"

    def _method(self, node: Node) -> str:
        kind = METHODS.get(node.target)
        if kind is None:
            raise ValueError(f"{node.target!r} is not in the forward printer's method table")
        obj = self._expr(node.args[0], nested=True)
        if kind == "property":
            return f"{obj}.{node.target}"
        rest = Node(node.op, node.target, node.args[1:], node.kwargs)
        return f"{obj}.{node.target}({self._arguments(rest)})"

    def _arguments(self, node: Node) -> str:
        parts = [self._expr(a) for a in node.args]
        for key, value in node.kwargs.items():
            if not is_plain_attr(key):
                raise ValueError(f"keyword {key!r} is not a plain identifier")
            parts.append(f"{key}={self._expr(value)}")
        return ", ".join(parts)

    def _module(self, path: tuple[str, ...]) -> str:
        if path and path[0] in self.loop_variables:  # an item of a loop's container
            return attr_path(path[1:], root=path[0])
        return attr_path(path, dict_items=self.dict_items)


def attr_path(path: tuple[str, ...], root: str = "self", dict_items=frozenset()) -> str:
    """`self.a.b`, `self.layers[0]`, or `getattr(self, 'odd key')` for segments that are not names
    (a class's own numbered member too: blocks/split_concat.py's convs; only containers index).
    From a loop's item (`root`, a container's item) numbered members index: `branch[0]`."""
    text = root
    for i, segment in enumerate(path):
        numbered = segment.isascii() and segment.isdigit() and str(int(segment)) == segment
        if numbered and (i or root != "self"):
            text = f"{text}[{segment}]"
        elif is_plain_attr(segment) and segment != "self":
            text = f"{text}.{segment}"
        elif path[: i + 1] in dict_items:  # an nn.ModuleDict's key: `self.stem["stem_1/conv"]`
            text = f"{text}[{string_literal(segment)}]"
        else:
            text = f"getattr({text}, {string_literal(segment)})"
    return text


def _is_inlined(graph: Graph, uses: dict[int, int], i: int) -> bool:
    """Printed inside its one consumer: when asked to, or when that consumer is the return."""
    node = graph.nodes[i]
    if (
        node.op in ("input", "output")
        or node.each
        or node.loop
        or node.each_collect
        or node.each_keep
        or node.times
        or node.unpack
    ):
        return False
    if uses.get(i, 0) != 1:
        return False
    returned = i + 1 < len(graph.nodes) and graph.nodes[i + 1].op == "output"
    return node.inline or (returned and graph.nodes[i + 1].args[0].index == i and not node.comment)


def _infix(node: Node) -> bool:
    return node.target in OPERATORS


def _last_uses(graph: Graph, uses: dict[int, int]) -> dict[int, int]:
    """Node index -> index of the last node that reads it (through inlined consumers too);
    `uses`: graph.uses()."""
    last: dict[int, int] = {}
    consumer = list(range(len(graph.nodes)))
    reads = [{v.index for v in _reads(node)} for node in graph.nodes]
    # An inlined node is evaluated where its consumer is: attribute its reads to that consumer.
    for i in reversed(range(len(graph.nodes))):
        if _is_inlined(graph, uses, i):
            for j in range(i + 1, len(graph.nodes)):
                if i in reads[j]:
                    consumer[i] = consumer[j]
                    break
    for i, read in enumerate(reads):
        for index in read:
            last[index] = max(last.get(index, -1), consumer[i])
    return last


def _reads(node: Node) -> list[Value]:
    return values_in((node.args, tuple(node.kwargs.values()), node.given))
