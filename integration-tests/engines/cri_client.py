#!/usr/bin/env python3
"""A small CRI v1 client (a crictl stand-in: Debian ships neither crictl nor
kubelet). Requests and answers are protobuf JSON, as in the CRI API.

  cri_client.py --sock PATH runp POD.json [HANDLER]  -> pod sandbox id
      (HANDLER: the runtime handler, as a Kubernetes RuntimeClass names it)
  cri_client.py --sock PATH create POD_ID CTR.json POD.json -> container id
  cri_client.py --sock PATH start|stop|rm|status|stats ID [TIMEOUT]
  cri_client.py --sock PATH stopp|rmp|inspectp POD_ID
  cri_client.py --sock PATH exec ID [--timeout S] -- CMD...   (ExecSync;
      prints stdout, stderr to stderr, exits with the command's exit code)
  cri_client.py --sock PATH update ID RESOURCES.json
  cri_client.py --sock PATH pods|ps
  cri_client.py --sock PATH version
"""
import argparse
import json
import sys

import grpc
from google.protobuf import json_format
from cri_api.v1 import api_pb2 as pb
from cri_api.v1 import api_pb2_grpc as pbg


def load(path):
    with open(path) as f:
        return json.load(f)


def dump(msg):
    # print zero values too (a zero exit_code or enum would be left out)
    try:
        text = json_format.MessageToJson(msg, preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True)
    except TypeError:  # protobuf < 5
        text = json_format.MessageToJson(msg, preserving_proto_field_name=True,
                                         including_default_value_fields=True)
    print(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sock", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("cmd")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    ch = grpc.insecure_channel("unix://" + a.sock)
    rt = pbg.RuntimeServiceStub(ch)
    t = a.timeout
    args = a.args
    c = a.cmd
    if c == "version":
        dump(rt.Version(pb.VersionRequest(), timeout=t))
    elif c == "runp":
        cfg = json_format.ParseDict(load(args[0]), pb.PodSandboxConfig())
        handler = args[1] if len(args) > 1 else ""
        r = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg, runtime_handler=handler), timeout=t)
        print(r.pod_sandbox_id)
    elif c == "create":
        cfg = json_format.ParseDict(load(args[1]), pb.ContainerConfig())
        pcfg = json_format.ParseDict(load(args[2]), pb.PodSandboxConfig())
        r = rt.CreateContainer(pb.CreateContainerRequest(
            pod_sandbox_id=args[0], config=cfg, sandbox_config=pcfg), timeout=t)
        print(r.container_id)
    elif c == "start":
        rt.StartContainer(pb.StartContainerRequest(container_id=args[0]), timeout=t)
    elif c == "stop":
        to = int(args[1]) if len(args) > 1 else 10
        rt.StopContainer(pb.StopContainerRequest(container_id=args[0], timeout=to), timeout=t + to)
    elif c == "rm":
        rt.RemoveContainer(pb.RemoveContainerRequest(container_id=args[0]), timeout=t)
    elif c == "status":
        dump(rt.ContainerStatus(pb.ContainerStatusRequest(container_id=args[0]), timeout=t).status)
    elif c == "stats":
        dump(rt.ContainerStats(pb.ContainerStatsRequest(container_id=args[0]), timeout=t).stats)
    elif c == "stopp":
        rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=args[0]), timeout=t)
    elif c == "rmp":
        rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=args[0]), timeout=t)
    elif c == "inspectp":
        dump(rt.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=args[0]), timeout=t).status)
    elif c == "pods":
        for p in rt.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=t).items:
            print(p.id, pb.PodSandboxState.Name(p.state), p.metadata.name)
    elif c == "ps":
        for x in rt.ListContainers(pb.ListContainersRequest(), timeout=t).containers:
            print(x.id, pb.ContainerState.Name(x.state), x.metadata.name, x.pod_sandbox_id)
    elif c == "exec":
        if args[1] == "--":
            cmd = args[2:]
        else:
            cmd = args[1:]
        r = rt.ExecSync(pb.ExecSyncRequest(container_id=args[0], cmd=cmd, timeout=int(t)), timeout=t + 5)
        sys.stdout.write(r.stdout.decode(errors="replace"))
        sys.stderr.write(r.stderr.decode(errors="replace"))
        sys.exit(r.exit_code)
    elif c == "update":
        res = json_format.ParseDict(load(args[1]), pb.LinuxContainerResources())
        rt.UpdateContainerResources(pb.UpdateContainerResourcesRequest(
            container_id=args[0], linux=res), timeout=t)
    else:
        ap.error("unknown command " + c)


if __name__ == "__main__":
    try:
        main()
    except grpc.RpcError as e:
        print("cri error: %s: %s" % (e.code().name, e.details()), file=sys.stderr)
        sys.exit(100)
