-------------------------------- MODULE Raft --------------------------------
(***************************************************************************)
(* The TLA+ twin of kubeprop's Raft model (model/raft.py, raft_rules.py,   *)
(* raft_handlers.py) in its comparison configuration: no client history,   *)
(* no reads, no crashes, no partitions, at most one copy of a message (so  *)
(* the network bag is a set; a send beyond MaxMsgs in flight is lost),     *)
(* appends carry every entry from Next on.  Same variables (server ids     *)
(* 1..N here, 0..N-1 there; Nil = 0 here, -1 there) and the same actions,  *)
(* so both explorations must count the same distinct states.  The ghost    *)
(* `lead_log` of the Python model is left out: in every reachable state of *)
(* the correct model it equals the log of a leader and is empty otherwise. *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS N, MaxTerm, MaxLog, NumValues, MaxMsgs, Q

Server == 1..N
Nil == 0
NoMsg == [type |-> "none"]

VARIABLES currentTerm, role, votedFor, leader, log, commitIndex, votesGranted,
          nextIndex, matchIndex, msgs, elected, committed

vars == <<currentTerm, role, votedFor, leader, log, commitIndex, votesGranted,
          nextIndex, matchIndex, msgs, elected, committed>>

Zeros == [p \in Server |-> 0]
Min(a, b) == IF a < b THEN a ELSE b
Max(a, b) == IF a > b THEN a ELSE b
MaxOf(S) == CHOOSE x \in S : \A y \in S : y <= x

TermAt(lg, i) == IF i > 0 /\ i <= Len(lg) THEN lg[i][1] ELSE 0
LastTerm(lg) == TermAt(lg, Len(lg))

\* log.go isUpToDate
UpToDate(lg, li, lt) == lt > LastTerm(lg) \/ (lt = LastTerm(lg) /\ li >= Len(lg))

\* A send beyond one copy or MaxMsgs in flight is lost.
Send1(bag, m) == IF m = NoMsg \/ m \in bag \/ Cardinality(bag) >= MaxMsgs THEN bag ELSE bag \cup {m}
RECURSIVE SendSeq(_, _)
SendSeq(bag, seq) == IF seq = <<>> THEN bag ELSE SendSeq(Send1(bag, Head(seq)), Tail(seq))

Rec(s) == [term |-> currentTerm[s], role |-> role[s], vote |-> votedFor[s], lead |-> leader[s],
           log |-> log[s], commit |-> commitIndex[s], votes |-> votesGranted[s],
           next |-> nextIndex[s], match |-> matchIndex[s]]

\* raft.go becomeFollower (+ reset of volatile leader/candidate state)
BecomeFollower(r, t, ld) ==
    [r EXCEPT !.vote = IF t # r.term THEN Nil ELSE r.vote, !.term = t, !.role = "F", !.lead = ld,
              !.votes = {}, !.next = Zeros, !.match = Zeros]

\* Newly committed entries go to the ghost set with the term they were first seen committed in.
CommitGhost(cm, lg, oldc, newc, t) ==
    cm \cup { <<k, lg[k][1], lg[k][2], t>> :
              k \in {j \in (oldc + 1)..newc : ~\E g \in cm : g[1] = j /\ g[2] = lg[j][1] /\ g[3] = lg[j][2]} }

CommitTo(r, n, cm) ==
    IF n <= r.commit THEN [rec |-> r, cm |-> cm]
    ELSE [rec |-> [r EXCEPT !.commit = n], cm |-> CommitGhost(cm, r.log, r.commit, n, r.term)]

\* quorum/majority.go CommittedIndex: the Q-th largest match index
QuorumIndex(mt) == MaxOf({k \in {mt[p] : p \in Server} \cup {0} : Cardinality({p \in Server : mt[p] >= k}) >= Q})

\* raft.go maybeCommit / log.go maybeCommit: only an entry of the current term
MaybeCommit(r, cm) ==
    LET n == QuorumIndex(r.match)
    IN IF n > r.commit /\ TermAt(r.log, n) = r.term THEN CommitTo(r, n, cm) ELSE [rec |-> r, cm |-> cm]

\* raft.go appendEntry: own match follows the last index, then maybeCommit
AppendEntry(r, s, v, cm) ==
    LET lg == Append(r.log, <<r.term, v>>)
    IN MaybeCommit([r EXCEPT !.log = lg, !.match = [r.match EXCEPT ![s] = Len(lg)]], cm)

\* raft.go becomeLeader: Next = lastIndex+1, Match = 0, append the empty entry
BecomeLeader(r, s, el, cm) ==
    LET r2 == [r EXCEPT !.role = "L", !.lead = s, !.votes = {},
                        !.next = [p \in Server |-> Len(r.log) + 1], !.match = Zeros]
        a == AppendEntry(r2, s, 0, cm)
    IN [rec |-> a.rec, reply |-> NoMsg, el |-> el \cup {<<r.term, s>>}, cm |-> a.cm]

Out(r, reply, el, cm) == [rec |-> r, reply |-> reply, el |-> el, cm |-> cm]

OnVote(r, m, el, cm) ==
    IF (r.vote = m.src \/ (r.vote = Nil /\ r.lead = Nil)) /\ UpToDate(r.log, m.lastIdx, m.lastTerm)
    THEN Out([r EXCEPT !.vote = m.src],
             [type |-> "RVR", src |-> m.dst, dst |-> m.src, term |-> m.term, granted |-> TRUE], el, cm)
    ELSE Out(r, [type |-> "RVR", src |-> m.dst, dst |-> m.src, term |-> r.term, granted |-> FALSE], el, cm)

OnVoteResp(r, m, el, cm) ==
    IF r.role # "C" \/ ~m.granted THEN Out(r, NoMsg, el, cm)
    ELSE LET r2 == [r EXCEPT !.votes = @ \cup {m.src}]
         IN IF Cardinality(r2.votes) >= Q THEN BecomeLeader(r2, m.dst, el, cm) ELSE Out(r2, NoMsg, el, cm)

Merge(lg, prev, ents) ==
    LET bad == {j \in 1..Len(ents) : TermAt(lg, prev + j) # ents[j][1]}
    IN IF bad = {} THEN lg
       ELSE LET j == CHOOSE x \in bad : \A y \in bad : x <= y
            IN SubSeq(lg, 1, prev + j - 1) \o SubSeq(ents, j, Len(ents))

AER(r, m, ok, idx, hint) ==
    [type |-> "AER", src |-> m.dst, dst |-> m.src, term |-> r.term, success |-> ok, index |-> idx, hint |-> hint]

\* raft.go handleAppendEntries + log.go maybeAppend
OnAppend(r0, m, el, cm) ==
    IF r0.role = "L" THEN Out(r0, NoMsg, el, cm)
    ELSE LET r1 == IF r0.role = "C" THEN BecomeFollower(r0, r0.term, m.src) ELSE r0
             r == [r1 EXCEPT !.lead = m.src]
         IN IF m.prev < r.commit THEN Out(r, AER(r, m, TRUE, r.commit, 0), el, cm)
            ELSE IF TermAt(r.log, m.prev) # m.prevTerm
                 THEN Out(r, AER(r, m, FALSE, m.prev, Min(m.prev, Len(r.log))), el, cm)
                 ELSE LET r2 == [r EXCEPT !.log = Merge(r.log, m.prev, m.entries)]
                          lastNew == m.prev + Len(m.entries)
                          c == CommitTo(r2, Min(m.commit, lastNew), cm)
                      IN Out(c.rec, AER(r2, m, TRUE, lastNew, 0), el, c.cm)

\* raft.go stepLeader MsgAppResp + tracker/progress.go MaybeUpdate / MaybeDecrTo
OnAppendResp(r, m, el, cm) ==
    IF r.role # "L" THEN Out(r, NoMsg, el, cm)
    ELSE IF m.success
         THEN LET mt == IF m.index > r.match[m.src] THEN [r.match EXCEPT ![m.src] = m.index] ELSE r.match
                  r2 == [r EXCEPT !.match = mt, !.next = [r.next EXCEPT ![m.src] = Max(@, m.index + 1)]]
                  c == MaybeCommit(r2, cm)
              IN Out(c.rec, NoMsg, el, c.cm)
         ELSE IF r.next[m.src] - 1 = m.index
              THEN Out([r EXCEPT !.next[m.src] = Max(Min(m.index, m.hint + 1), r.match[m.src] + 1)], NoMsg, el, cm)
              ELSE Out(r, NoMsg, el, cm)

\* raft.go Step: term comparison first
Handle(r, m, el, cm) ==
    IF m.term < r.term THEN Out(r, NoMsg, el, cm)
    ELSE LET r1 == IF m.term > r.term THEN BecomeFollower(r, m.term, IF m.type = "AE" THEN m.src ELSE Nil) ELSE r
         IN CASE m.type = "RV" -> OnVote(r1, m, el, cm)
              [] m.type = "RVR" -> OnVoteResp(r1, m, el, cm)
              [] m.type = "AE" -> OnAppend(r1, m, el, cm)
              [] m.type = "AER" -> OnAppendResp(r1, m, el, cm)

SetRec(s, r) ==
    /\ currentTerm' = [currentTerm EXCEPT ![s] = r.term]
    /\ role' = [role EXCEPT ![s] = r.role]
    /\ votedFor' = [votedFor EXCEPT ![s] = r.vote]
    /\ leader' = [leader EXCEPT ![s] = r.lead]
    /\ log' = [log EXCEPT ![s] = r.log]
    /\ commitIndex' = [commitIndex EXCEPT ![s] = r.commit]
    /\ votesGranted' = [votesGranted EXCEPT ![s] = r.votes]
    /\ nextIndex' = [nextIndex EXCEPT ![s] = r.next]
    /\ matchIndex' = [matchIndex EXCEPT ![s] = r.match]

Init ==
    /\ currentTerm = [s \in Server |-> 0]
    /\ role = [s \in Server |-> "F"]
    /\ votedFor = [s \in Server |-> Nil]
    /\ leader = [s \in Server |-> Nil]
    /\ log = [s \in Server |-> <<>>]
    /\ commitIndex = [s \in Server |-> 0]
    /\ votesGranted = [s \in Server |-> {}]
    /\ nextIndex = [s \in Server |-> Zeros]
    /\ matchIndex = [s \in Server |-> Zeros]
    /\ msgs = {}
    /\ elected = {}
    /\ committed = {}

Peers(s) == [i \in 1..(N - 1) |-> IF i < s THEN i ELSE i + 1]

\* raft.go campaign: term+1, vote for itself, RequestVote to every peer in order (N >= 2 here)
Timeout(s) ==
    /\ role[s] # "L" /\ currentTerm[s] < MaxTerm
    /\ LET r1 == BecomeFollower(Rec(s), currentTerm[s] + 1, Nil)
           r == [r1 EXCEPT !.role = "C", !.vote = s, !.votes = {s}]
           rv == [i \in 1..(N - 1) |-> [type |-> "RV", src |-> s, dst |-> Peers(s)[i], term |-> r.term,
                                         lastIdx |-> Len(r.log), lastTerm |-> LastTerm(r.log)]]
       IN SetRec(s, r) /\ msgs' = SendSeq(msgs, rv)
    /\ UNCHANGED <<elected, committed>>

\* raft.go sendAppend: prevIndex = Next-1, every entry from Next on, the leader's commit
SendAppend(s, p) ==
    /\ role[s] = "L" /\ p # s
    /\ LET prev == nextIndex[s][p] - 1
       IN msgs' = Send1(msgs, [type |-> "AE", src |-> s, dst |-> p, term |-> currentTerm[s], prev |-> prev,
                               prevTerm |-> TermAt(log[s], prev), entries |-> SubSeq(log[s], prev + 1, Len(log[s])),
                               commit |-> commitIndex[s]])
    /\ UNCHANGED <<currentTerm, role, votedFor, leader, log, commitIndex, votesGranted, nextIndex,
                   matchIndex, elected, committed>>

ClientWrite(s, v) ==
    /\ role[s] = "L" /\ Len(log[s]) < MaxLog
    /\ LET a == AppendEntry(Rec(s), s, v, committed) IN SetRec(s, a.rec) /\ committed' = a.cm
    /\ UNCHANGED <<msgs, elected>>

Receive(m) ==
    /\ m \in msgs
    /\ LET h == Handle(Rec(m.dst), m, elected, committed)
       IN /\ SetRec(m.dst, h.rec)
          /\ msgs' = Send1(msgs \ {m}, h.reply)
          /\ elected' = h.el
          /\ committed' = h.cm

Drop(m) ==
    /\ m \in msgs
    /\ msgs' = msgs \ {m}
    /\ UNCHANGED <<currentTerm, role, votedFor, leader, log, commitIndex, votesGranted, nextIndex,
                   matchIndex, elected, committed>>

Next ==
    \/ \E s \in Server : Timeout(s)
    \/ \E s, p \in Server : SendAppend(s, p)
    \/ \E s \in Server, v \in 1..NumValues : ClientWrite(s, v)
    \/ \E m \in msgs : Receive(m) \/ Drop(m)

Spec == Init /\ [][Next]_vars

ElectionSafety == \A a, b \in elected : a[1] = b[1] => a[2] = b[2]
StateMachineSafety == \A a, b \in committed : a[1] = b[1] => (a[2] = b[2] /\ a[3] = b[3])
=============================================================================
