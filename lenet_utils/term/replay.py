"""Probe and judge: how the grader checks an answer it does not trust.

In a notebook a checker is given the learner's object and decides, in one process. The grader
(lenet_utils.term.sandbox) runs each answer in a process the answer controls, so there the same
checker runs twice. :func:`probe`, next to the answer, keeps only what the answer PRODUCED, as plain
data: its value, or the result of every call the checker made to it (and the weights a call left in a
network it was given). :func:`judge`, in the grader, runs the checker again on a stand-in built from
that data: a value, or a function (a class) that answers each call with what was recorded for the very
same inputs. The verdict is only ever the judge's; forged data can at most claim what an answer
returned, and a call the judge makes that was not recorded (other inputs) means "could not be checked".
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..lessons.exercises._core import Feedback, kept_hint_counts

MAX_DEPTH = 32
ARRAY_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                "float16", "float32", "float64"}


def _plain_types() -> dict[str, type]:
    """The package's dataclasses an answer may be (or return), rebuilt from their fields."""
    from ..classroom.gallery import Gallery
    from ..config import LeNetConfig
    from ..training import TrainConfig

    return {cls.__name__: cls for cls in (TrainConfig, LeNetConfig, Gallery)}


class Unchecked(BaseException):
    """The judge asked the stand-in something the probe did not record, or the data is malformed.
    A BaseException, so that a checker's ``except Exception`` (a learner's crash) does not catch it."""


def plain(obj: Any, depth: int = 0, compact: bool = False) -> Any:
    """``obj`` as JSON data: exact built-in numbers and strings, lists, tagged tuples, dicts with string
    keys, NumPy arrays and scalars, tensors, the package's config dataclasses. Anything else (a subclass
    with a lying ``__eq__``, a function) becomes ``{"__opaque__": its type's name}``: never code.
    ``compact``: arrays by a hash of their bytes (for :func:`digest`, which only compares)."""
    import dataclasses

    import numpy as np
    import torch

    if depth > MAX_DEPTH:
        return {"__opaque__": "too deep"}
    kind, deeper = type(obj), (lambda v: plain(v, depth + 1, compact))
    if compact and kind in (np.ndarray, torch.Tensor, torch.nn.Parameter):
        array = obj.detach().cpu().numpy() if kind is not np.ndarray else obj
        if str(array.dtype) in ARRAY_DTYPES:
            data = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
            return {"__array__": data, "dtype": str(array.dtype), "shape": list(array.shape)}
    if obj is None or kind in (bool, int, float, str):
        return obj
    if kind in (list, tuple, set, frozenset, torch.Size):
        items = [deeper(v) for v in (sorted(obj, key=repr) if kind in (set, frozenset) else obj)]
        return items if kind is list else {"__tuple__" if kind in (tuple, torch.Size) else "__set__": items}
    if kind in (dict, OrderedDict) and all(type(k) is str for k in obj):
        return {"__dict__": {k: deeper(v) for k, v in obj.items()}}
    if kind is np.ndarray and str(obj.dtype) in ARRAY_DTYPES:
        return {"__ndarray__": obj.tolist(), "dtype": str(obj.dtype), "shape": list(obj.shape)}
    if isinstance(obj, np.generic) and kind.__module__ == "numpy" and str(obj.dtype) in ARRAY_DTYPES:
        return {"__npscalar__": obj.item(), "dtype": str(obj.dtype)}
    if kind in (torch.Tensor, torch.nn.Parameter) and str(obj.dtype).removeprefix("torch.") in ARRAY_DTYPES:
        value = obj.detach().cpu()
        return {"__tensor__": value.tolist(), "dtype": str(value.dtype).removeprefix("torch."),
                "shape": list(value.shape)}
    if dataclasses.is_dataclass(obj) and _plain_types().get(kind.__name__) is kind:
        return {"__dataclass__": kind.__name__,
                "fields": {f.name: deeper(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    if isinstance(obj, torch.nn.Module):          # an argument the checker gave: known by its weights
        return {"__opaque__": "module", "state": deeper(obj.state_dict())}
    return {"__opaque__": f"{kind.__module__}.{kind.__qualname__}"}


class Opaque:
    """What a probe could not turn into data (an object that carries code): it equals nothing."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what} object>"


def unplain(data: Any, depth: int = 0) -> Any:
    """The value :func:`plain` described, rebuilt in the judge; ``Unchecked`` for anything malformed."""
    import numpy as np
    import torch

    if depth > MAX_DEPTH:
        raise Unchecked("the data is nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [unplain(v, depth + 1) for v in data]
    if type(data) is not dict or len(data) == 0:
        raise Unchecked(f"unexpected {type(data).__name__} in the data")
    tag = next(iter(data))
    try:
        if tag == "__tuple__":
            return tuple(unplain(v, depth + 1) for v in data[tag])
        if tag == "__set__":
            return {unplain(v, depth + 1) for v in data[tag]}
        if tag == "__dict__" and type(data[tag]) is dict:
            return {str(k): unplain(v, depth + 1) for k, v in data[tag].items()}
        if tag in ("__ndarray__", "__npscalar__", "__tensor__") and data.get("dtype") in ARRAY_DTYPES:
            array = np.array(data[tag], dtype=data["dtype"])
            if tag == "__npscalar__":
                return array.reshape(()).dtype.type(array.item())
            array = array.reshape([int(n) for n in data["shape"]])
            return torch.from_numpy(array.copy()) if tag == "__tensor__" else array
        if tag == "__dataclass__" and data[tag] in _plain_types() and type(data.get("fields")) is dict:
            return _plain_types()[data[tag]](**{str(k): unplain(v, depth + 1) for k, v in data["fields"].items()})
        if tag == "__opaque__":                       # an object of its type's name, that is nothing else
            name = str(data[tag]).rpartition(".")[2]
            return type(name if name.isidentifier() else "Opaque", (Opaque,), {})(str(data[tag])[:200])
    except Unchecked:
        raise
    except Exception as err:  # a shape that does not fit its numbers, a field a config does not have
        raise Unchecked(f"malformed {tag} ({type(err).__name__}: {one_line(err)})") from None
    raise Unchecked(f"unexpected {tag[:40]!r} in the data")


def one_line(err: BaseException, limit: int = 200) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def digest(*args: Any) -> str:
    """What identifies a call's inputs in the probe and in the judge alike."""
    return hashlib.sha256(json.dumps(plain(list(args), compact=True), sort_keys=True).encode()).hexdigest()


def _record(log: list, key: str, call: Callable[[], Any], args: tuple) -> Any:
    import torch

    try:
        result = call()
    except Exception as err:
        log.append({"key": key, "raised": [type(err).__name__, one_line(err)]})
        raise
    after = {str(i): plain(a.state_dict()) for i, a in enumerate(args) if isinstance(a, torch.nn.Module)}
    log.append({"key": key, "result": plain(result), "after": after})
    return result


def _recording_class(cls: type, log: dict) -> type:
    """A subclass of the learner's network class that records how it was built and what it computed."""

    class Recorded(cls):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            try:
                super().__init__(*args, **kwargs)
            except Exception as err:
                log["raised"] = [type(err).__name__, one_line(err)]
                raise
            log["children"] = [[name, f"{type(m).__module__}.{type(m).__qualname__}"]
                               for name, m in self.named_children()]
            log["state"] = {k: [str(v.dtype).removeprefix("torch."), list(v.shape)]
                            for k, v in self.state_dict().items()}

        def __call__(self, *args: Any) -> Any:
            key = digest(self.state_dict(), *args)
            return _record(log["calls"], key, lambda: super(Recorded, self).__call__(*args), ())

    Recorded.__name__ = Recorded.__qualname__ = cls.__name__
    return Recorded


def probe(checker: Callable[..., Any], answer: Any, *args: Any, **kwargs: Any) -> dict:
    """Next to the answer (the grader's fork): run ``checker`` on it and keep what the answer produced,
    as plain data. The checker's own verdict here is thrown away."""
    import torch

    if isinstance(answer, type) and issubclass(answer, torch.nn.Module):
        log: dict = {"calls": []}
        standin: Any = _recording_class(answer, log)
    elif callable(answer) and not isinstance(answer, type):
        log = {"calls": []}

        def standin(*call_args: Any) -> Any:
            return _record(log["calls"], digest(*call_args), lambda: answer(*call_args), call_args)
    else:
        return {"kind": "value", "value": plain(answer)}
    try:
        checker(standin, *args, **kwargs)
    except Exception:  # noqa: S110  (what was recorded until then is what the judge gets)
        pass
    return {"kind": "class" if isinstance(answer, type) else "function", **log}


def _raise(raised: Any) -> None:
    """Raise again, in the judge, the error the answer raised in the probe (by name and message only)."""
    name, text = (raised + ["", ""])[:2] if type(raised) is list else ("Error", "")
    name = str(name) if str(name).isidentifier() else "Error"
    raise type(name, (Exception,), {})(str(text)[:300])


class _Replay:
    """The recorded calls, each answered once, in the order they were made for the same inputs."""

    def __init__(self, calls: Any) -> None:
        if type(calls) is not list:
            raise Unchecked("no list of calls")
        self.calls: dict[str, list[dict]] = {}
        for call in calls:
            if type(call) is not dict or type(call.get("key")) is not str:
                raise Unchecked("a call without its inputs")
            self.calls.setdefault(call["key"], []).append(call)

    def answer(self, key: str, args: tuple) -> Any:
        recorded = self.calls.get(key)
        if not recorded:
            raise Unchecked("it was not run on the inputs the check gives it")
        call = recorded.pop(0)
        if "raised" in call:
            _raise(call["raised"])
        if type(call.get("after", {})) is not dict:
            raise Unchecked("malformed weights")
        for i, state in call.get("after", {}).items():
            target = args[int(i)] if str(i).isdigit() and int(i) < len(args) else None
            weights = unplain(state)
            if target is None or not isinstance(weights, dict):
                raise Unchecked("weights for an argument that is not a network")
            try:
                target.load_state_dict(weights)
            except Exception as err:
                raise Unchecked(f"the weights it left do not fit the network ({one_line(err)})") from None
        return unplain(call.get("result"))


def _torch_type(path: Any) -> type | None:
    """``torch.nn.modules.conv.Conv2d`` -> the class, for torch's own layers only."""
    import importlib

    import torch

    module, _, name = str(path).rpartition(".")
    if not module.startswith("torch.nn.modules"):
        return None
    cls = getattr(importlib.import_module(module), name, None)
    return cls if isinstance(cls, type) and issubclass(cls, torch.nn.Module) else None


def _replay_class(data: dict) -> type:
    """A network class standing in for the learner's: the recorded layers (empty shells of the same
    types) with the recorded weights' shapes, and a forward that answers with the recorded outputs."""
    import torch

    replay = _Replay(data.get("calls"))
    children, state = data.get("children", []), data.get("state", {})
    if "raised" not in data and (type(children) is not list or type(state) is not dict):
        raise Unchecked("no layers recorded")

    class Replayed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if "raised" in data:
                _raise(data["raised"])
            for entry in children:
                name, path = (entry + ["", ""])[:2] if type(entry) is list else ("", "")
                cls = _torch_type(path)
                if cls is None:
                    cls = type(str(path).rpartition(".")[2] or "Unknown", (torch.nn.Module,), {})
                layer = cls.__new__(cls)
                torch.nn.Module.__init__(layer)
                self.add_module(str(name), layer)
            for key, spec in state.items():
                *path, leaf = str(key).split(".")
                owner = self
                for part in path:
                    if part not in owner._modules:
                        owner.add_module(part, torch.nn.Module())
                    owner = owner._modules[part]
                dtype, shape = spec if type(spec) is list and len(spec) == 2 else ("float32", [])
                if str(dtype) not in ARRAY_DTYPES:
                    raise Unchecked("a weight of an unknown type")
                owner.register_buffer(leaf, torch.zeros([int(n) for n in shape], dtype=getattr(torch, str(dtype))))

        def forward(self, *args: Any) -> Any:
            return replay.answer(digest(self.state_dict(), *args), ())

    return Replayed


def judge(checker: Callable[..., Any], data: Any, *args: Any, **kwargs: Any) -> Feedback:
    """In the grader: the checker's verdict on a stand-in for the answer, built from :func:`probe`'s data.
    Malformed data, or a call the probe did not record, fails with "could not be checked"."""
    with kept_hint_counts():               # the grader's checks do not advance anyone's hints
        return _verdict(checker, data, *args, **kwargs)


def _verdict(checker: Callable[..., Any], data: Any, *args: Any, **kwargs: Any) -> Feedback:
    try:
        if type(data) is not dict or data.get("kind") not in ("value", "function", "class"):
            raise Unchecked("the grading process sent back no probe data")
        if data["kind"] == "value":
            if "value" not in data:
                raise Unchecked("the probe data holds no value")
            standin: Any = unplain(data["value"])
        elif data["kind"] == "function":
            replay = _Replay(data.get("calls"))

            def standin(*call_args: Any) -> Any:
                return replay.answer(digest(*call_args), call_args)
        else:
            standin = _replay_class(data)
        return checker(standin, *args, **kwargs)
    except Unchecked as err:
        return Feedback(False, f"your answer could not be checked: {err}.", title="Not graded:")
    except Exception as err:  # data that rebuilt into something the checker cannot read
        return Feedback(False, f"your answer could not be checked ({type(err).__name__}: {one_line(err)}).",
                        title="Not graded:")
