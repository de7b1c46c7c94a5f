"""train: the recipe trains its model (QKeras or Brevitas, as the toolchain takes), imports its
reference model, or a QONNX file brought from elsewhere is imported; gated on the task's metric."""

from __future__ import annotations

from pathlib import Path

from pipeline.flow import Flow
from pipeline.stages.stage import Stage


def _train_params(f: Flow) -> dict:
    if f.external:
        from frameworks import qonnx_import as external

        return {"external": str(f.external), "sha256": external.fingerprint(f.external), "input_scale": f.input_scale,
                "input_zero_point": f.input_zero_point, **f.testset_params()}
    if f.toolchain.framework == "brevitas" and f.model == "reference":
        return {"reference_int8": f.recipe.int8_reference().model_dump(), **f.testset_params()}
    if f.toolchain.framework == "brevitas":
        return f.recipe.brevitas_params()
    return {**f.recipe.train_params(f.model), **(f.testset_params() if f.model != "trained" else {})}


def _train_sources(f: Flow) -> dict:
    if f.external:
        return {"modules": ["tasks.imported_model", f"tasks.{f.task}.recipe"]}
    if f.toolchain.framework == "brevitas":
        return {"modules": f.recipe.sources["reference_int8" if f.model == "reference" else "brevitas"]["modules"]}
    return {"modules": f.recipe.sources[f.model]["modules"]}


def _train(f: Flow, out: Path) -> dict:
    if f.external:
        from tasks import imported_model

        assert f.input_scale is not None  # Flow checks it before any stage runs
        return imported_model.import_qonnx(f.recipe, f.external, f.eembc(), f.eembc_kind(),
                                           f.input_scale, f.input_zero_point, out)
    data = f.artifacts("data") if "data" in f.stages else None
    if f.model == "trained":  # gated on its own data's test files, whatever testset= the later stages use
        assert data is not None  # a trained model always has its data stage
        kind = f.manifest("data")["outputs"]["data_kind"]
        if f.toolchain.framework == "brevitas":
            return f.recipe.train_brevitas(data, data["eembc"], kind, out)
        return f.recipe.train(f.model, data, data["eembc"], kind, out)
    if f.toolchain.framework == "brevitas":  # the int8 reference, imported for FINN
        return f.recipe.import_int8_reference(f.eembc(), f.eembc_kind(), out)
    return f.recipe.train(f.model, data, f.eembc(), f.eembc_kind(), out)  # an imported model: on the test folder


STAGE = Stage("train", _train_params, _train_sources, ["data"], _train)
