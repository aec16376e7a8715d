"""wire_checks: what every CURVE service must answer at its door, checked the same way
for each — bytes that are no Envelope get Reject seq 0 MALFORMED (nothing consumed), and
a key the service's keys file does not hold is refused at the handshake."""
import zmq

from harness import fail, wait_for


def check_garbage(ac, ctx, endpoint, server_public, keypair):
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.curve_serverkey = server_public
    sock.curve_publickey, sock.curve_secretkey = keypair
    sock.connect(endpoint)
    try:
        sock.send(b"\x00not an envelope")
        if not sock.poll(10000):
            fail("no answer to garbage bytes at %s" % endpoint)
        env = ac.envelope_pb2.Envelope.FromString(sock.recv())
        if env.WhichOneof("body") != "reject" or env.reject.seq != 0 or \
                env.reject.code != env.reject.MALFORMED:
            fail("garbage bytes at %s answered %s" % (endpoint, env))
    finally:
        sock.close()


def check_stranger(ac, ctx, endpoint, server_public, keypair):
    s = ac.Stream(endpoint, server_public, keypair, context=ctx)
    try:
        wait_for(lambda: s.step() or s.auth_refused, 20, "the stranger's handshake refused")
    finally:
        s.close(save=False)
