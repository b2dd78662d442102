package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// Group commit: concurrent TaskCreates share one transaction, so a burst
// pays one commit (one fsync) per group instead of one per create. Each
// member runs inside its own SAVEPOINT, so a member that fails (a short
// balance, a duplicate idempotency key, the in-flight cap) is rolled back
// alone and the others still commit. Nobody is answered before the commit:
// a create that returns a task returns a committed one, and a commit that
// fails fails every member, none of whose writes are then durable.
//
// The callers line up on an unbuffered channel, whose waiting senders Go
// serves first in, first out; a committer takes the first and then every
// caller already waiting, up to maxGroup. A lone create pays nothing extra:
// with nobody waiting, its group is itself, without a savepoint.
//
// database/sql has no group commit and neither driver offers one (pgx's
// batches send statements, not transactions), hence this file.

// maxGroup bounds a group: past it, a longer transaction only delays the
// group's first member.
const maxGroup = 64

// groupTimeout bounds one group's transaction. Members run on it rather
// than on their callers' contexts: a caller that gives up mid-group must
// not abort the others' transaction.
const groupTimeout = 30 * time.Second

// errStoreClosed answers a create that arrives after Close.
var errStoreClosed = lepus.Errorf(lepus.EUnavailable, "the store is shutting down")

type createReq struct {
	ctx context.Context
	p   *lepus.TaskCreateParams
	t   *lepus.Task // filled in (JobID) by the member's work

	existing *lepus.Task
	err      error
	alone    bool // lost a lock conflict with another group: run again alone
	done     chan struct{}
}

type createGroup struct {
	s    *Store
	reqs chan *createReq
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	waiting atomic.Int64 // callers not yet taken into a group
	largest atomic.Int64 // the most members one group had
	alone   atomic.Int64 // creates retried alone after losing a deadlock
}

// startGroupCommit starts n committers. SQLite's single writer gains
// nothing from more than one; on Postgres groups commit in parallel.
func (s *Store) startGroupCommit(n int) {
	g := &createGroup{s: s, reqs: make(chan *createReq), stop: make(chan struct{})}
	for range n {
		g.wg.Add(1)
		go g.run()
	}
	s.group = g
}

// close stops the committers after the groups they are running commit.
func (g *createGroup) close() {
	g.once.Do(func() { close(g.stop) })
	g.wg.Wait()
}

// create hands one create to a committer and waits for its group's
// outcome. Once handed over it always waits: the group may commit it.
func (g *createGroup) create(ctx context.Context, p *lepus.TaskCreateParams, t *lepus.Task) (*lepus.Task, error) {
	r := &createReq{ctx: ctx, p: p, t: t, done: make(chan struct{})}
	g.waiting.Add(1)
	select {
	case g.reqs <- r:
		g.waiting.Add(-1)
	case <-ctx.Done():
		g.waiting.Add(-1)
		return nil, ctx.Err()
	case <-g.stop:
		g.waiting.Add(-1)
		return nil, errStoreClosed
	}
	<-r.done
	if r.alone {
		g.alone.Add(1)
		return g.s.createAlone(ctx, p, t)
	}
	return r.existing, r.err
}

func (g *createGroup) run() {
	defer g.wg.Done()
	for {
		var first *createReq
		select {
		case first = <-g.reqs:
		case <-g.stop:
			return
		}
		group := []*createReq{first}
	gather:
		for len(group) < maxGroup {
			select {
			case r := <-g.reqs:
				group = append(group, r)
			default:
				break gather
			}
		}
		if n := int64(len(group)); n > g.largest.Load() {
			g.largest.Store(n) // one writer per committer; a racing store only undercounts
		}
		g.commit(group)
		for _, r := range group {
			close(r.done)
		}
	}
}

// commit runs group in one transaction and records each member's outcome.
func (g *createGroup) commit(group []*createReq) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	err := g.s.inTx(ctx, func(tx *sql.Tx) (err error) {
		defer func() { // a panicking Enqueue must not strand the group's callers
			if v := recover(); v != nil {
				err = fmt.Errorf("create task: panic: %v", v)
			}
		}()
		if len(group) == 1 {
			r := group[0]
			if r.err = r.ctx.Err(); r.err != nil { // its caller left: write nothing
				return r.err
			}
			mctx, cancel := memberCtx(ctx, r)
			defer cancel()
			r.existing, r.err = g.s.createInTx(mctx, tx, r.p, r.t)
			return r.err
		}
		// Members lock their users' credit rows in user order, in every
		// group (createInTx locks a user's row before its task's key), so
		// two groups committing at once on Postgres wait for each other
		// but never deadlock.
		ordered := slices.SortedStableFunc(slices.Values(group), func(a, b *createReq) int {
			return strings.Compare(a.t.UserID, b.t.UserID)
		})
		for _, r := range ordered {
			if err := g.member(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return
	}
	if r := group[0]; len(group) == 1 && r.err != nil { // the member's own error
		r.alone = lockConflict(r.err)
		return
	}
	// Nothing of the group was committed, whatever its members did.
	for _, r := range group {
		r.existing, r.err, r.alone = nil, err, false
	}
}

// member runs one create of a group inside its own savepoint. A member's
// failure is its own; an error returned here (a savepoint that cannot be
// set or rolled back) fails the whole group.
func (g *createGroup) member(ctx context.Context, tx *sql.Tx, r *createReq) error {
	if err := r.ctx.Err(); err != nil { // its caller left before its turn: write nothing
		r.err = err
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT create_task`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	mctx, cancel := memberCtx(ctx, r)
	defer cancel()
	r.existing, r.err = g.s.createInTx(mctx, tx, r.p, r.t)
	if r.err != nil {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT create_task`); err != nil {
			return fmt.Errorf("rollback to savepoint: %w", err)
		}
		// Creates take locks in one order, so this should not happen; if
		// the server still picks a member as a deadlock's victim, it is
		// retried alone after this group commits.
		r.alone = lockConflict(r.err)
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT create_task`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// memberCtx is the context a member's statements run on: its caller's
// values (request id, tracing) without its cancellation, and the group's
// deadline.
func memberCtx(group context.Context, r *createReq) (context.Context, context.CancelFunc) {
	d, _ := group.Deadline() // commit sets one
	return context.WithDeadline(context.WithoutCancel(r.ctx), d)
}
