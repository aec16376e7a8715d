#!/usr/bin/env python3
"""buyer_client: the reference client of a debt buyer bidding in arrears' sales
(DESIGN.md section 5). Built on arrears_client (pyzmq, protobuf) with the buyer's own
CURVE key; sale admits the key with role "buyer" and shows that principal only the
portfolios it is invited to and only its own bids.

What a buyer does:
  * list the portfolios offered to it (PortfolioListQuery): bands, size, balance, the
    bidding deadline, its own bid; once won, the price and the file's size;
  * pull a portfolio's masked tape in chunks (SaleDocQuery SALE_TAPE), checked against
    its SHA-256: balances and bands under the buyer's own pseudonyms, no personal data;
  * bid (a stream message, Bid): sealed, raised by at least the portfolio's step;
  * after winning, pull the full file (SALE_FILE) and open it with its own CURVE secret
    key: the file is sealed to the buyer's public key with libsodium's crypto_box_seal
    (here PyNaCl's SealedBox, python3-nacl), so nobody else can read it;
  * put back an ineligible account (PutBack) before put_back_until_ms, with a reason.
Refusals come back with a code and a reason.

As a library:
    buyer = BuyerClient(endpoint, sale_public, keypair, state_path="buyer.stream.json")
    for p in buyer.portfolios():
        tape = buyer.tape(p.portfolio_id)
        buyer.bid(p.portfolio_id, p.currency, 123456)
    buyer.flush(); print(buyer.rejected)
    sale_file = buyer.file(portfolio_id)
As a program:
    buyer_client.py --endpoint E --sale-public sale.pub --key buyer.key [--state S]
                    [--proto-dir DIR] list | tape P | file P | bid P CURRENCY AMOUNT |
                    put-back P PSEUDONYM REASON"""
import argparse
import json
import sys

import arrears_client as ac
import nacl.public
import zmq.utils.z85

import sale_pb2


class BuyerClient:
    def __init__(self, endpoint, sale_public, keypair, state_path=None, context=None):
        self.keypair = keypair
        self.stream = ac.Stream(endpoint, ac.load_public(sale_public), keypair,
                                state_path=state_path, resend_timeout=1.0, context=context)

    @property
    def rejected(self):
        """Refused bids and put-backs: dicts with seq, code, field and reason."""
        return self.stream.rejected

    def portfolios(self, page=100, timeout=10.0):
        """Every portfolio offered to this buyer, in id order."""
        out, after = [], ""
        while True:
            reply = self.stream.query(sale_pb2.PortfolioListQuery(after_portfolio_id=after,
                                                                  max_portfolios=page), timeout)
            out.extend(reply.portfolios)
            if not reply.next_after:
                return out
            after = reply.next_after

    def document(self, portfolio_id, form, chunk=65536, timeout=10.0):
        """A whole tape or sealed file as bytes, its SHA-256 checked."""
        return self.stream.pull_document(
            lambda offset: sale_pb2.SaleDocQuery(portfolio_id=portfolio_id, form=form,
                                                 offset=offset, max_bytes=chunk),
            portfolio_id, timeout)

    def tape(self, portfolio_id, **kw):
        """The masked tape: a SaleTape message."""
        t = sale_pb2.SaleTape()
        t.ParseFromString(self.document(portfolio_id, sale_pb2.SALE_TAPE, **kw))
        return t

    def tape_bytes(self, portfolio_id, **kw):
        return self.document(portfolio_id, sale_pb2.SALE_TAPE, **kw)

    def file(self, portfolio_id, **kw):
        """The full file of a portfolio this buyer won: a SaleFile message."""
        sealed = self.document(portfolio_id, sale_pb2.SALE_FILE, **kw)
        public, secret = (zmq.utils.z85.decode(k) for k in self.keypair)
        box = nacl.public.SealedBox(nacl.public.PrivateKey(secret))
        plain = box.decrypt(sealed)
        if bytes(nacl.public.PrivateKey(secret).public_key) != public:
            raise ac.ArrearsError("the key file's public and secret keys do not match")
        f = sale_pb2.SaleFile()
        f.ParseFromString(plain)
        return f

    def bid(self, portfolio_id, currency, amount_minor):
        """Queues a bid (sent at once, acked later: flush() waits). Returns its seq."""
        return self.stream.send(sale_pb2.Bid(portfolio_id=portfolio_id, currency=currency,
                                             amount_minor=amount_minor))

    def put_back(self, portfolio_id, pseudonym, reason):
        return self.stream.send(sale_pb2.PutBack(portfolio_id=portfolio_id, pseudonym=pseudonym,
                                                 reason=reason))

    def flush(self, timeout=30.0):
        self.stream.flush(timeout)

    def close(self, save=True):
        self.stream.close(save=save)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--sale-public", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--state")
    p.add_argument("--proto-dir")
    p.add_argument("command", choices=["list", "tape", "file", "bid", "put-back"])
    p.add_argument("args", nargs="*")
    a = p.parse_args()
    b = BuyerClient(a.endpoint, a.sale_public, ac.load_keypair(a.key), a.state)
    try:
        if a.command == "list":
            for x in b.portfolios():
                print(json.dumps({"portfolio_id": x.portfolio_id, "accounts": x.accounts,
                                  "currency": x.currency, "outstanding_minor": x.outstanding_minor,
                                  "state": sale_pb2.PortfolioState.Name(x.state),
                                  "bid_deadline_ms": x.bid_deadline_ms, "won": x.won}))
        elif a.command in ("tape", "file"):
            doc = b.tape(a.args[0]) if a.command == "tape" else b.file(a.args[0])
            sys.stdout.buffer.write(doc.SerializeToString())
        elif a.command == "bid":
            b.bid(a.args[0], a.args[1], int(a.args[2]))
        else:
            b.put_back(a.args[0], a.args[1], a.args[2])
        b.flush()
        for r in b.rejected:
            print("rejected %s" % json.dumps(r))
        return 1 if b.rejected else 0
    finally:
        b.close()


if __name__ == "__main__":
    sys.exit(main())
