"""containerd's Tasks.Update, for the engine test: ctr 1.6 has no command
for it, and it is the call behind CRI's UpdateContainerResources (what the
kubelet sends to change a running container's limits).

    containerd.py SOCKET NAMESPACE CONTAINER RESOURCES_JSON

The request is encoded by hand (two length-delimited protobuf fields), so
that only grpcio is needed; containerd unpacks RESOURCES_JSON as the OCI
LinuxResources and its runc shim hands it to `coracle update`.
"""

import sys

import grpc

RESOURCES_TYPE = b"types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"


def field(number, payload):
    """A length-delimited protobuf field: its key, length and bytes."""
    out = bytearray([number << 3 | 2])
    length = len(payload)
    while True:
        byte, length = length & 0x7F, length >> 7
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out) + payload


def main(socket, namespace, container, resources):
    resources_any = field(1, RESOURCES_TYPE) + field(2, resources.encode())
    request = field(1, container.encode()) + field(2, resources_any)
    channel = grpc.insecure_channel("unix://" + socket)
    update = channel.unary_unary("/containerd.services.tasks.v1.Tasks/Update")
    update(request, metadata=[("containerd-namespace", namespace)], timeout=30)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    try:
        main(*sys.argv[1:])
    except grpc.RpcError as e:
        sys.exit(f"containerd.py: {e.code().name}: {e.details()}")
