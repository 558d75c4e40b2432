"""The tritonpack C API (include/tritonpack/tritonpack.h) through ctypes, for the Python benchmarks.

Only what they need: open a pack, create a kernel, list its arguments, launch, explain. The structs
mirror the header field for field (LP64: tp_arg is 40 bytes, tp_launch_options 56); the helpers of
the header (tp_tensor, tp_int, ...) are static inline, so arguments are built here, zero-filled
first as the header asks. No GPU is needed to load the library, open a pack or explain a launch for
a given arch (the CUDA driver is loaded on first use), so the layout can be checked anywhere.

Ownership as in the header: Pack and Kernel own their handles and release them in close(); every
array passed in is borrowed for the call only.
"""

from __future__ import annotations

import ctypes
import re

# tp_arg_kind
TP_ARG_TENSOR = 0
TP_ARG_INT = 1
TP_ARG_FLOAT = 2
TP_ARG_DESCRIPTOR = 3
# tp_dtype (the enum's order in the header)
TP_DTYPES = {"fp16": 0, "bf16": 1, "fp32": 2, "fp64": 3, "i8": 4, "i16": 5, "i32": 6, "i64": 7,
             "u8": 8, "u16": 9, "u32": 10, "u64": 11, "i1": 12, "fp8e4nv": 13, "fp8e5": 14}
TP_OK = 0
TP_ERROR_BUFFER_TOO_SMALL = 15


class TpArgValue(ctypes.Union):
    _fields_ = [("pointer", ctypes.c_uint64),  # CUdeviceptr: unsigned long long on LP64
                ("int_value", ctypes.c_int64),
                ("float_value", ctypes.c_double)]


class TpArg(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int),   # tp_arg_kind (a C enum: int)
                ("dtype", ctypes.c_int),  # tp_dtype
                ("value", TpArgValue),
                ("rank", ctypes.c_uint32),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64))]


class TpLaunchOptions(ctypes.Structure):
    _fields_ = [("config", ctypes.c_char_p),
                ("workspace", ctypes.c_uint64),
                ("workspace_size", ctypes.c_size_t),
                ("pinned", ctypes.c_void_p),  # const tp_constexpr*; always NULL here
                ("num_pinned", ctypes.c_size_t),
                ("use_variant_id", ctypes.c_int32),
                ("variant_id", ctypes.c_int32),
                # Nonzero: ignore the pack's tuning table (spec order). The last field; a library
                # from before tuning reads the struct without it, and then runs spec order anyway.
                ("ignore_tuning", ctypes.c_int32)]


def check_layout():
    """Raises if the structs do not have the header's LP64 layout (a wrong field would shift every
    argument the library reads)."""
    expected = {TpArg: 40, TpLaunchOptions: 56}
    for struct, size in expected.items():
        if ctypes.sizeof(struct) != size:
            raise RuntimeError(f"{struct.__name__} is {ctypes.sizeof(struct)} bytes, the header's is {size} "
                               "(LP64 only)")
    if TpArg.shape.offset != 24 or TpLaunchOptions.ignore_tuning.offset != 48:
        raise RuntimeError("tp_arg / tp_launch_options field offsets differ from the header's")


class TritonpackError(RuntimeError):
    def __init__(self, call: str, status: int, status_name: str, message: str):
        super().__init__(f"{call}: {status_name} ({status}): {message}")
        self.status = status


def options(ignore_tuning: bool = False) -> TpLaunchOptions:
    """Default options (a zero-filled struct: tuned where the pack has a table), or spec order."""
    o = TpLaunchOptions()
    o.ignore_tuning = 1 if ignore_tuning else 0
    return o


class Arguments:
    """A launch's tp_arg array with the shape arrays it points to (kept alive here)."""

    def __init__(self, count: int):
        self.array = (TpArg * count)()  # zero-filled
        self._shapes = []

    def tensor(self, index: int, pointer: int, dtype: str, shape=()):
        a = self.array[index]
        a.kind = TP_ARG_TENSOR
        a.dtype = TP_DTYPES[dtype]
        a.value.pointer = pointer
        if shape:
            dims = (ctypes.c_int64 * len(shape))(*shape)
            self._shapes.append(dims)
            a.rank = len(shape)
            a.shape = ctypes.cast(dims, ctypes.POINTER(ctypes.c_int64))

    def descriptor(self, index: int, pointer: int, dtype: str, shape, strides=None):
        """A host tensor descriptor (tensordesc param): shape and strides in elements; strides
        default to the dense row-major ones."""
        if strides is None:
            strides, step = [], 1
            for n in reversed(shape):
                strides.insert(0, step)
                step *= n
        a = self.array[index]
        a.kind = TP_ARG_DESCRIPTOR
        a.dtype = TP_DTYPES[dtype]
        a.value.pointer = pointer
        dims = (ctypes.c_int64 * len(shape))(*shape)
        steps = (ctypes.c_int64 * len(strides))(*strides)
        self._shapes += [dims, steps]
        a.rank = len(shape)
        a.shape = ctypes.cast(dims, ctypes.POINTER(ctypes.c_int64))
        a.strides = ctypes.cast(steps, ctypes.POINTER(ctypes.c_int64))

    def integer(self, index: int, value: int):
        a = self.array[index]
        a.kind = TP_ARG_INT
        a.dtype = TP_DTYPES["i64"]
        a.value.int_value = value

    def real(self, index: int, value: float):
        a = self.array[index]
        a.kind = TP_ARG_FLOAT
        a.dtype = TP_DTYPES["fp64"]
        a.value.float_value = value

    def __len__(self):
        return len(self.array)


class Library:
    def __init__(self, path: str):
        check_layout()
        self._lib = lib = ctypes.CDLL(path)
        handle = ctypes.c_void_p
        status = ctypes.c_int
        for name, restype, argtypes in [
            ("tp_version", ctypes.c_char_p, []),
            ("tp_last_error", ctypes.c_char_p, []),
            ("tp_status_name", ctypes.c_char_p, [ctypes.c_int]),
            ("tp_pack_open", status, [ctypes.c_char_p, ctypes.POINTER(handle)]),
            ("tp_pack_close", None, [handle]),
            ("tp_kernel_create", status, [handle, ctypes.c_char_p, ctypes.POINTER(handle)]),
            ("tp_kernel_destroy", None, [handle]),
            ("tp_kernel_num_args", status, [handle, ctypes.POINTER(ctypes.c_size_t)]),
            ("tp_kernel_arg_name", status, [handle, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p)]),
            ("tp_kernel_launch", status,
             [handle, ctypes.POINTER(TpArg), ctypes.c_size_t, ctypes.c_void_p, ctypes.POINTER(TpLaunchOptions)]),
            ("tp_kernel_explain", status,
             [handle, ctypes.POINTER(TpArg), ctypes.c_size_t, ctypes.POINTER(TpLaunchOptions), ctypes.c_uint32,
              ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_int32)]),
        ]:
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes

    def version(self) -> str:
        return self._lib.tp_version().decode()

    def check(self, call: str, status: int):
        if status != TP_OK:
            raise TritonpackError(call, status, self._lib.tp_status_name(status).decode(),
                                  self._lib.tp_last_error().decode(errors="replace"))

    def open(self, path: str) -> "Pack":
        pack = ctypes.c_void_p()
        self.check(f"tp_pack_open({path})", self._lib.tp_pack_open(path.encode(), ctypes.byref(pack)))
        return Pack(self, pack)


class Pack:
    def __init__(self, library: Library, handle: ctypes.c_void_p):
        self.library, self._handle = library, handle

    def kernel(self, name: str) -> "Kernel":
        k = ctypes.c_void_p()
        lib = self.library
        lib.check(f"tp_kernel_create({name})", lib._lib.tp_kernel_create(self._handle, name.encode(), ctypes.byref(k)))
        return Kernel(lib, k)

    def close(self):
        if self._handle:
            self.library._lib.tp_pack_close(self._handle)
            self._handle = None


class Kernel:
    def __init__(self, library: Library, handle: ctypes.c_void_p):
        self.library, self._handle = library, handle
        self._launch = library._lib.tp_kernel_launch

    def arg_names(self) -> list[str]:
        lib = self.library
        count = ctypes.c_size_t()
        lib.check("tp_kernel_num_args", lib._lib.tp_kernel_num_args(self._handle, ctypes.byref(count)))
        names = []
        for i in range(count.value):
            name = ctypes.c_char_p()
            lib.check("tp_kernel_arg_name", lib._lib.tp_kernel_arg_name(self._handle, i, ctypes.byref(name)))
            names.append(name.value.decode())
        return names

    def launch(self, args: Arguments, stream: int, opts: TpLaunchOptions):
        status = self._launch(self._handle, args.array, len(args), ctypes.c_void_p(stream), ctypes.byref(opts))
        if status != TP_OK:
            self.library.check("tp_kernel_launch", status)

    def explain(self, args: Arguments, opts: TpLaunchOptions, arch: int = 0) -> tuple[int, str]:
        """(the chosen variant's id or -1, the explanation). arch 0: the current context's device."""
        explain = self.library._lib.tp_kernel_explain
        needed = ctypes.c_size_t()
        chosen = ctypes.c_int32()

        def call(buffer, size):
            status = explain(self._handle, args.array, len(args), ctypes.byref(opts), arch, buffer, size,
                             ctypes.byref(needed), ctypes.byref(chosen))
            self.library.check("tp_kernel_explain", status)

        call(None, 0)  # asks for the size
        buffer = ctypes.create_string_buffer(needed.value)
        call(buffer, needed.value)
        return chosen.value, buffer.value.decode()

    def close(self):
        if self._handle:
            self.library._lib.tp_kernel_destroy(self._handle)
            self._handle = None


_CHOSEN = re.compile(r"^\s*variant (\d+) \((.*)\): chosen$", re.MULTILINE)


def chosen_config(explanation: str) -> str:
    """The config name on the explanation's "chosen" line ("variant 3 (..., config m64n128k32, ...):
    chosen"), or "" when nothing was chosen. The C API has no call that names a variant's config, so
    this reads the text tp_kernel_explain documents (docs/spec-format.md)."""
    m = _CHOSEN.search(explanation)
    if not m:
        return ""
    for part in m.group(2).split(", "):
        if part.startswith("config "):
            return part[len("config "):]
    return ""
