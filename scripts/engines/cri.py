"""A small CRI client for the engine test: the calls the kubelet makes to
its container runtime (runtime.v1.RuntimeService, which containerd 1.6's
CRI plugin serves on containerd's own socket), one a command.

    cri.py SOCKET version                 runtime name, version, API version
    cri.py SOCKET runp POD_JSON HANDLER   RunPodSandbox; prints the pod's id
    cri.py SOCKET inspectp POD_ID         PodSandboxStatus: its state, handler
    cri.py SOCKET create POD_ID POD_JSON CONTAINER_JSON
                                          CreateContainer; prints its id
    cri.py SOCKET start ID                StartContainer
    cri.py SOCKET inspect ID              ContainerStatus: its state, exit code
    cri.py SOCKET exec ID CMD...          ExecSync: CMD's output, exit code
    cri.py SOCKET update ID MEMORY_BYTES  UpdateContainerResources
    cri.py SOCKET stop ID TIMEOUT         StopContainer (TERM, KILL after)
    cri.py SOCKET rm ID                   RemoveContainer
    cri.py SOCKET stopp POD_ID            StopPodSandbox
    cri.py SOCKET rmp POD_ID              RemovePodSandbox

POD_JSON and CONTAINER_JSON are files holding a PodSandboxConfig and a
ContainerConfig in JSON by their protobuf field names (as crictl's config
files do), limited to the fields that MESSAGES below lists; enums go by
name. A failed call exits 1 with gRPC's status and containerd's message.

The messages are encoded and decoded by hand from that table, whose field
numbers are those of k8s.io/cri-api's runtime/v1 api.proto, so that only
grpcio is needed.
"""

import inspect
import json
import sys

import grpc

SERVICE = "/runtime.v1.RuntimeService/"

# The fields used here of each message: name -> (number, type), where the
# type is a scalar ("string", "bytes", "bool", "int"), an enum (a dict of
# its values) or a message's name; in a list when the field is repeated.
# PodSandboxId stands for the requests that hold only a pod's id
# (StopPodSandboxRequest, RemovePodSandboxRequest, PodSandboxStatusRequest),
# ContainerId for those with only a container's, and Empty for responses
# read for nothing.
NAMESPACE_MODE = {"POD": 0, "CONTAINER": 1, "NODE": 2, "TARGET": 3}
PROFILE_TYPE = {"RuntimeDefault": 0, "Unconfined": 1, "Localhost": 2}
SANDBOX_STATE = {"SANDBOX_READY": 0, "SANDBOX_NOTREADY": 1}
CONTAINER_STATE = {
    "CONTAINER_CREATED": 0,
    "CONTAINER_RUNNING": 1,
    "CONTAINER_EXITED": 2,
    "CONTAINER_UNKNOWN": 3,
}
MESSAGES = {
    "VersionRequest": {"version": (1, "string")},
    "VersionResponse": {
        "version": (1, "string"),
        "runtime_name": (2, "string"),
        "runtime_version": (3, "string"),
        "runtime_api_version": (4, "string"),
    },
    "PodSandboxMetadata": {
        "name": (1, "string"),
        "uid": (2, "string"),
        "namespace": (3, "string"),
        "attempt": (4, "int"),
    },
    "NamespaceOption": {
        "network": (1, NAMESPACE_MODE),
        "pid": (2, NAMESPACE_MODE),
        "ipc": (3, NAMESPACE_MODE),
    },
    "SecurityProfile": {"profile_type": (1, PROFILE_TYPE), "localhost_ref": (2, "string")},
    "LinuxSandboxSecurityContext": {
        "namespace_options": (1, "NamespaceOption"),
        "seccomp": (9, "SecurityProfile"),
    },
    "LinuxPodSandboxConfig": {
        "cgroup_parent": (1, "string"),
        "security_context": (2, "LinuxSandboxSecurityContext"),
    },
    "PodSandboxConfig": {
        "metadata": (1, "PodSandboxMetadata"),
        "hostname": (2, "string"),
        "log_directory": (3, "string"),
        "linux": (8, "LinuxPodSandboxConfig"),
    },
    "RunPodSandboxRequest": {"config": (1, "PodSandboxConfig"), "runtime_handler": (2, "string")},
    "PodSandboxId": {"pod_sandbox_id": (1, "string")},
    "RunPodSandboxResponse": {"pod_sandbox_id": (1, "string")},
    "PodSandboxStatus": {
        "id": (1, "string"),
        "state": (3, SANDBOX_STATE),
        "runtime_handler": (9, "string"),
    },
    "PodSandboxStatusResponse": {"status": (1, "PodSandboxStatus")},
    "ContainerMetadata": {"name": (1, "string"), "attempt": (2, "int")},
    "ImageSpec": {"image": (1, "string")},
    "LinuxContainerResources": {
        "cpu_period": (1, "int"),
        "cpu_quota": (2, "int"),
        "cpu_shares": (3, "int"),
        "memory_limit_in_bytes": (4, "int"),
        "oom_score_adj": (5, "int"),
    },
    "LinuxContainerSecurityContext": {
        "namespace_options": (3, "NamespaceOption"),
        "seccomp": (15, "SecurityProfile"),
    },
    "LinuxContainerConfig": {
        "resources": (1, "LinuxContainerResources"),
        "security_context": (2, "LinuxContainerSecurityContext"),
    },
    "ContainerConfig": {
        "metadata": (1, "ContainerMetadata"),
        "image": (2, "ImageSpec"),
        "command": (3, ["string"]),
        "args": (4, ["string"]),
        "log_path": (11, "string"),
        "linux": (15, "LinuxContainerConfig"),
    },
    "CreateContainerRequest": {
        "pod_sandbox_id": (1, "string"),
        "config": (2, "ContainerConfig"),
        "sandbox_config": (3, "PodSandboxConfig"),
    },
    "CreateContainerResponse": {"container_id": (1, "string")},
    "ContainerId": {"container_id": (1, "string")},
    "StopContainerRequest": {"container_id": (1, "string"), "timeout": (2, "int")},
    "ContainerStatus": {
        "id": (1, "string"),
        "state": (3, CONTAINER_STATE),
        "exit_code": (7, "int"),
        "reason": (10, "string"),
        "message": (11, "string"),
    },
    "ContainerStatusResponse": {"status": (1, "ContainerStatus")},
    "ExecSyncRequest": {
        "container_id": (1, "string"),
        "cmd": (2, ["string"]),
        "timeout": (3, "int"),
    },
    "ExecSyncResponse": {
        "stdout": (1, "bytes"),
        "stderr": (2, "bytes"),
        "exit_code": (3, "int"),
    },
    "UpdateContainerResourcesRequest": {
        "container_id": (1, "string"),
        "linux": (2, "LinuxContainerResources"),
    },
    "Empty": {},
}


def varint(value):
    """A protobuf varint (negative values as 64-bit two's complement)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def encode_field(number, kind, value):
    """One field's key and value: a varint (wire type 0) for ints, bools and
    enums, length-delimited (wire type 2) for strings, bytes and messages."""
    if isinstance(kind, dict):
        return varint(number << 3) + varint(kind[value])
    if kind in ("int", "bool"):
        return varint(number << 3) + varint(int(value))
    if kind == "string":
        payload = value.encode()
    elif kind == "bytes":
        payload = value
    else:
        payload = encode(kind, value)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def encode(message, fields):
    """MESSAGE (a name in MESSAGES) from a dict of its fields by name."""
    schema = MESSAGES[message]
    out = b""
    for name, value in fields.items():
        if name not in schema:
            raise ValueError(f"{message} has no field {name} here")
        number, kind = schema[name]
        if isinstance(kind, list):
            out += b"".join(encode_field(number, kind[0], item) for item in value)
        else:
            out += encode_field(number, kind, value)
    return out


def read_varint(data, pos):
    """The varint at data[pos:] and the position after it."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def wire_fields(data):
    """The (number, value) pairs of an encoded message: an int for varints,
    bytes for length-delimited fields, and fixed-width fields skipped."""
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = read_varint(data, pos)
            yield number, value
        elif wire_type == 2:
            length, pos = read_varint(data, pos)
            yield number, data[pos : pos + length]
            pos += length
        elif wire_type in (1, 5):
            pos += 8 if wire_type == 1 else 4
        else:
            raise ValueError(f"wire type {wire_type} in a response")


def decode_value(kind, value):
    """A field's value as its type in MESSAGES says."""
    if isinstance(kind, dict):
        return next((name for name, v in kind.items() if v == value), value)
    if kind == "int":
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "bool":
        return bool(value)
    if kind == "string":
        return value.decode()
    if kind == "bytes":
        return value
    return decode(kind, value)


def decode(message, data):
    """A dict of MESSAGE's fields by name (those MESSAGES lists; the fields
    proto3 leaves out for their zero value are missing)."""
    by_number = {number: (name, kind) for name, (number, kind) in MESSAGES[message].items()}
    fields = {}
    for number, value in wire_fields(data):
        if number not in by_number:
            continue
        name, kind = by_number[number]
        if isinstance(kind, list):
            fields.setdefault(name, []).append(decode_value(kind[0], value))
        else:
            fields[name] = decode_value(kind, value)
    return fields


class Runtime:
    """containerd's CRI RuntimeService on a unix socket."""

    def __init__(self, socket):
        self.channel = grpc.insecure_channel("unix://" + socket)

    def call(self, method, request, fields, response="Empty", timeout=120):
        """METHOD with the REQUEST message made of FIELDS; the RESPONSE
        message's fields."""
        stub = self.channel.unary_unary(SERVICE + method)
        return decode(response, stub(encode(request, fields), timeout=timeout))


def read_json(path):
    """The JSON in file PATH."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def version(rt):
    """The runtime's name, its version and the CRI version it serves."""
    v = rt.call("Version", "VersionRequest", {"version": "v1"}, "VersionResponse")
    names = ("runtime_name", "runtime_version", "runtime_api_version")
    print(" ".join(v.get(name, "") for name in names))


def run_pod(rt, pod, handler):
    """RunPodSandbox of POD_JSON with the runtime HANDLER: the pod's id."""
    request = {"config": read_json(pod), "runtime_handler": handler}
    response = rt.call("RunPodSandbox", "RunPodSandboxRequest", request, "RunPodSandboxResponse")
    print(response["pod_sandbox_id"])


def pod_status(rt, pod_id):
    """The pod's state and runtime handler."""
    request = {"pod_sandbox_id": pod_id}
    response = rt.call("PodSandboxStatus", "PodSandboxId", request, "PodSandboxStatusResponse")
    status = response["status"]
    print(status.get("state", "SANDBOX_READY"), status.get("runtime_handler", ""))


def create(rt, pod_id, pod, container):
    """CreateContainer of CONTAINER_JSON in the pod of POD_JSON: the
    container's id."""
    request = {
        "pod_sandbox_id": pod_id,
        "config": read_json(container),
        "sandbox_config": read_json(pod),
    }
    response = rt.call(
        "CreateContainer", "CreateContainerRequest", request, "CreateContainerResponse"
    )
    print(response["container_id"])


def container_status(rt, container_id):
    """The container's state and exit code (and why it exited, if said)."""
    request = {"container_id": container_id}
    response = rt.call("ContainerStatus", "ContainerId", request, "ContainerStatusResponse")
    status = response["status"]
    words = [status.get("state", "CONTAINER_CREATED"), str(status.get("exit_code", 0))]
    print(" ".join(words + [status[k] for k in ("reason", "message") if k in status]))


def exec_sync(rt, container_id, *cmd):
    """CMD in the container: its stdout and stderr, and its exit code as
    this command's."""
    request = {"container_id": container_id, "cmd": list(cmd), "timeout": 60}
    result = rt.call("ExecSync", "ExecSyncRequest", request, "ExecSyncResponse", timeout=90)
    sys.stdout.buffer.write(result.get("stdout", b""))
    sys.stderr.buffer.write(result.get("stderr", b""))
    return result.get("exit_code", 0)


def update(rt, container_id, memory):
    """UpdateContainerResources: a new memory limit in bytes."""
    request = {"container_id": container_id, "linux": {"memory_limit_in_bytes": int(memory)}}
    rt.call("UpdateContainerResources", "UpdateContainerResourcesRequest", request)


def stop(rt, container_id, timeout):
    """StopContainer: TERM, and KILL after TIMEOUT seconds."""
    request = {"container_id": container_id, "timeout": int(timeout)}
    rt.call("StopContainer", "StopContainerRequest", request, timeout=int(timeout) + 60)


def start(rt, container_id):
    """StartContainer: its process runs."""
    rt.call("StartContainer", "ContainerId", {"container_id": container_id})


def remove(rt, container_id):
    """RemoveContainer."""
    rt.call("RemoveContainer", "ContainerId", {"container_id": container_id})


def stop_pod(rt, pod_id):
    """StopPodSandbox: its containers are killed and the sandbox too."""
    rt.call("StopPodSandbox", "PodSandboxId", {"pod_sandbox_id": pod_id})


def remove_pod(rt, pod_id):
    """RemovePodSandbox (and whatever containers it still has)."""
    rt.call("RemovePodSandbox", "PodSandboxId", {"pod_sandbox_id": pod_id})


COMMANDS = {
    "version": version,
    "runp": run_pod,
    "inspectp": pod_status,
    "create": create,
    "start": start,
    "inspect": container_status,
    "exec": exec_sync,
    "update": update,
    "stop": stop,
    "rm": remove,
    "stopp": stop_pod,
    "rmp": remove_pod,
}


def main(args):
    """Runs one command; its exit status (CMD's exit code for exec)."""
    command = COMMANDS.get(args[1]) if len(args) >= 2 else None
    try:
        inspect.signature(command).bind(None, *args[2:])
    except (TypeError, ValueError):
        sys.exit(__doc__)
    return command(Runtime(args[0]), *args[2:]) or 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except grpc.RpcError as e:
        sys.exit(f"cri.py: {e.code().name}: {e.details()}")
