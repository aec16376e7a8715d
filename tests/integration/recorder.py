"""recorder: the receiving side of a service's outbox, as a test stands in for the real
peer — a CURVE ROUTER that applies each stream's messages in order, acknowledges them
cumulatively as a real receiver would (an old seq again: a duplicate; a gap: nothing
applied, the sender's resend fills it) and keeps every body it applied, in order."""
import threading

import zmq


class Recorder(threading.Thread):
    def __init__(self, ac, ctx, endpoint, keypair):
        super().__init__(daemon=True)
        self.ac, self.stop = ac, False
        self.messages = []          # (body kind, body message), in the order applied
        self.lock = threading.Lock()
        self.sock = ctx.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.sock.curve_server = True
        self.sock.curve_publickey, self.sock.curve_secretkey = keypair
        self.sock.bind(endpoint)
        self.position = {}

    def bodies(self, kind):
        with self.lock:
            return [m for k, m in self.messages if k == kind]

    def _take(self, acks):
        pb = self.ac.envelope_pb2
        while True:
            try:
                rid, data = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            env = pb.Envelope.FromString(data)
            if env.seq == self.position.get(env.stream_id, 0) + 1:
                self.position[env.stream_id] = env.seq
                kind = env.WhichOneof("body")
                with self.lock:
                    self.messages.append((kind, getattr(env, kind)))
            acks[env.stream_id] = rid

    def run(self):
        pb = self.ac.envelope_pb2
        while not self.stop:
            if not self.sock.poll(100):
                continue
            acks = {}
            self._take(acks)
            for sid, rid in acks.items():
                ack = pb.Envelope(stream_id=sid, ack=pb.Ack(through_seq=self.position.get(sid, 0)))
                self.ac.send_reply(self.sock, rid, ack)
        self.sock.close()
