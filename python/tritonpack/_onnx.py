"""tritonpack.onnx_translations(): torch.onnx.export (dynamo=True) of the ops tritonpack.load registered,
as the nodes TensorRT's ONNX parser turns into the same kernel's plugin (docs/torch.md, "ONNX").

TensorRT's ONNX parser builds a node it has no importer for as a plugin: the creator is looked up
by (node op_type, attribute `plugin_version` (default "1"), attribute `plugin_namespace` (default
"", then the node's domain)), and the creator's fields are read from the node's attributes of the
same names. So each op becomes one node:

    domain     = the plugin's namespace ("tritonpack")      op_type = the plugin's name
    attributes = plugin_version (string), plugin_namespace (string),
                 each field: float (fp16/bf16/fp32/fp64 fields) or int (i32/i64 fields, and
                 dtype fields: an output dtype no input binds, as its tritonpack DType code)
    inputs     = the op's tensors, in order; outputs = the op's outputs, in order

which is what tritonpack's TensorRT creator of that kernel accepts (docs/tensorrt.md, "Names and
fields"). The description comes from the op library (the helper op
torch.ops.tritonpack.plugin_description), so every loaded op is translated the same way.

    import tritonpack, torch
    tritonpack.load("fmha.tpack")
    torch.onnx.export(model, args, "model.onnx", dynamo=True,
                      custom_translation_table=tritonpack.onnx_translations())
"""

from __future__ import annotations

from dataclasses import dataclass

FLOAT_FIELDS = ("fp16", "bf16", "fp32", "fp64")
INT_FIELDS = ("i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64")


@dataclass(frozen=True)
class OnnxNodeSpec:
    """What one op becomes in ONNX."""
    op_type: str            # the plugin's name
    domain: str             # the plugin's namespace
    version: str            # the plugin's version (attribute plugin_version)
    kernel: str
    inputs: tuple[str, ...]
    num_outputs: int
    fields: tuple[tuple[str, str], ...]  # (name, dtype) in schema order; "dtype" for a dtype field
    defaults: tuple[tuple[str, float], ...] = ()  # the schema's defaults of fields that have one
    # Each dtype field's choices, (dtype name, tritonpack DType code), the first its default.
    choices: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()

    def attributes(self, field_values) -> dict:
        """The node's attributes for these field values (in schema order)."""
        attrs = {"plugin_version": self.version, "plugin_namespace": self.domain}
        choices = dict(self.choices)
        for (name, dtype), value in zip(self.fields, field_values):
            if dtype == "dtype":
                attrs[name] = _dtype_code(self.op_type, name, choices[name], value)
            else:
                attrs[name] = float(value) if dtype in FLOAT_FIELDS else int(value)
        return attrs


# ONNX's element type names (the exporter passes a dtype argument as one) -> tritonpack's dtype names.
_ONNX_DTYPES = {"FLOAT16": "fp16", "BFLOAT16": "bf16", "FLOAT": "fp32", "DOUBLE": "fp64", "INT8": "i8",
                "INT16": "i16", "INT32": "i32", "INT64": "i64", "UINT8": "u8", "UINT16": "u16", "UINT32": "u32",
                "UINT64": "u64", "BOOL": "i1", "FLOAT8E4M3FN": "fp8e4nv", "FLOAT8E5M2": "fp8e5"}


def _dtype_code(op_type: str, field: str, choices: tuple[tuple[str, int], ...], value) -> int:
    """A dtype field's attribute: the tritonpack DType code (what the TensorRT creator's int32 field
    takes) of the call's value, one of the field's choices (the first when the call left it out)."""
    codes = dict(choices)
    if value is None:
        return choices[0][1]
    text = getattr(value, "name", None) or str(value)
    name = _ONNX_DTYPES.get(text)
    if name not in codes:
        onnx_names = {tp: onnx for onnx, tp in _ONNX_DTYPES.items()}
        takes = ", ".join(f"{onnx_names[tp]} ({tp})" for tp in codes)
        raise ValueError(f"tritonpack::{op_type}: dtype field {field} is {text}, not the ONNX element type of one "
                         f"of its dtypes: {takes}")
    return codes[name]


def node_spec(qualified_name: str) -> OnnxNodeSpec:
    """The ONNX node of a loaded op ("tritonpack::tritonpack_fmha" or "tritonpack_fmha")."""
    import torch
    name = qualified_name.split("::")[-1]
    (version, namespace, kernel, field_names, field_dtypes, choice_fields, choice_dtypes,
     choice_codes) = torch.ops.tritonpack.plugin_description(name)
    schema = getattr(torch.ops.tritonpack, name).default._schema
    field_set = set(field_names)
    inputs = tuple(a.name for a in schema.arguments if a.name not in field_set)
    for dtype in field_dtypes:
        if dtype not in FLOAT_FIELDS + INT_FIELDS + ("dtype",):
            raise ValueError(f"op tritonpack::{name}: field dtype {dtype} has no ONNX attribute type")
    defaults = tuple((a.name, a.default_value) for a in schema.arguments
                     if a.name in field_set and a.default_value is not None)
    choices = tuple((field, tuple((dt, code) for f, dt, code in zip(choice_fields, choice_dtypes, choice_codes)
                                  if f == i))
                    for i, (field, dtype) in enumerate(zip(field_names, field_dtypes)) if dtype == "dtype")
    return OnnxNodeSpec(name, namespace, version, kernel, inputs, len(schema.returns),
                        tuple(zip(field_names, field_dtypes)), defaults, choices)


def _op_schema(spec: OnnxNodeSpec):
    """An onnx OpSchema for the node: the exporter's graph builder checks calls against one."""
    from onnx import defs
    tensor_types = ["tensor(float16)", "tensor(bfloat16)", "tensor(float)", "tensor(double)",
                    "tensor(int8)", "tensor(int32)", "tensor(int64)", "tensor(uint8)",
                    "tensor(float8e4m3fn)", "tensor(float8e5m2)"]
    attr_type = defs.OpSchema.AttrType
    attributes = [defs.OpSchema.Attribute("plugin_version", attr_type.STRING, "the plugin's version"),
                  defs.OpSchema.Attribute("plugin_namespace", attr_type.STRING, "the plugin's namespace")]
    for name, dtype in spec.fields:
        attributes.append(defs.OpSchema.Attribute(
            name, attr_type.FLOAT if dtype in FLOAT_FIELDS else attr_type.INT, f"field {name} ({dtype})"))
    # Each tensor its own type variable: Q, K, V may differ from the outputs (e.g. fp32 statistics).
    inputs = [defs.OpSchema.FormalParameter(n, f"T_{n}") for n in spec.inputs]
    outputs = [defs.OpSchema.FormalParameter(f"output_{i}", f"T_output_{i}") for i in range(spec.num_outputs)]
    constraints = [(f"T_{n}", tensor_types, "") for n in spec.inputs] + \
                  [(f"T_output_{i}", tensor_types, "") for i in range(spec.num_outputs)]
    return defs.OpSchema(spec.op_type, spec.domain, 1, inputs=inputs, outputs=outputs,
                         type_constraints=constraints, attributes=attributes,
                         doc=f"tritonpack kernel {spec.kernel} as TensorRT plugin {spec.op_type} "
                             f"version {spec.version} namespace {spec.domain}")


def translation(qualified_name: str):
    """The translation function of one loaded op, for torch.onnx.export's custom_translation_table."""
    from onnxscript import values
    spec = node_spec(qualified_name)
    op = values.Op(values.Opset(spec.domain, 1), spec.op_type, op_schema=_op_schema(spec))
    n_inputs = len(spec.inputs)

    def translate(*args, **kwargs):
        # Fields arrive positionally or by name, a default from the schema when the call left it out.
        values_ = list(args[n_inputs:])
        defaults = dict(spec.defaults)
        for name, dtype in spec.fields[len(values_):]:
            if name not in kwargs and name in defaults:
                kwargs = {**kwargs, name: defaults[name]}
            if name not in kwargs and dtype == "dtype":
                kwargs = {**kwargs, name: None}  # its default dtype
            if name not in kwargs:
                raise ValueError(f"tritonpack::{spec.op_type}: field {name} has no value in the exported call")
            values_.append(kwargs[name])
        return op(*args[:n_inputs], **spec.attributes(values_))

    translate.__name__ = spec.op_type
    return translate


def onnx_translations(names=None) -> dict:
    """custom_translation_table for torch.onnx.export(dynamo=True): every op tritonpack.load has
    registered (or those named: "tritonpack::tritonpack_fmha") -> its translation."""
    import torch
    if names is None:
        from tritonpack._torch import loaded_ops
        names = loaded_ops()
    table = {}
    for qualified in names:
        name = qualified.split("::")[-1]
        table[getattr(torch.ops.tritonpack, name).default] = translation(qualified)
    return table
