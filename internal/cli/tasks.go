package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"
)

func runTasks(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("tasks", "tasks [--status S] [--type T] [--limit N] [--cursor C] [--json]\n\nLists your tasks, newest first.", env)
	var conn connFlags
	conn.register(fs)
	status := fs.String("status", "", "only tasks in this status: pending, processing, completed, failed, canceled")
	typ := fs.String("type", "", "only tasks of this type, e.g. face_swap")
	limit := fs.Int("limit", 0, "page size (server default 20, at most 100)")
	cursor := fs.String("cursor", "", "the page after this cursor (printed under a full page)")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	c, err := noArgs(fs, &conn, args, env)
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"status": *status, "type": *typ, "cursor": *cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *limit != 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	list, raw, err := c.Tasks(ctx, q)
	if err != nil {
		return fmt.Errorf("list tasks: %w", err)
	}
	if *asJSON {
		fmt.Fprintln(env.Stdout, rawJSON(raw))
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tSTATUS\tPROGRESS\tCOST\tCREATED\tASSETS")
	for _, t := range list.Tasks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d%%\t%d\t%s\t%d\n", t.ID, t.Type, t.Status, t.Progress, t.Cost,
			t.CreatedAt.Local().Format(time.DateTime), len(t.Assets))
	}
	_ = tw.Flush()
	if list.NextCursor != "" {
		fmt.Fprintf(env.Stdout, "more: lepus tasks --cursor %s\n", list.NextCursor)
	}
	return nil
}

func runTask(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("task", "task ID [--json]\n\nShows a task: status, error, results and notes.", env)
	var conn connFlags
	conn.register(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON (inputs, exact provider requests, stages)")
	id, c, err := taskArgs(fs, &conn, args, env)
	if err != nil {
		return err
	}
	t, raw, err := c.Task(ctx, id)
	if err != nil {
		return fmt.Errorf("task %s: %w", id, err)
	}
	if *asJSON {
		fmt.Fprintln(env.Stdout, rawJSON(raw))
		return nil
	}
	printTask(env.Stdout, t)
	return nil
}

func runCancel(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("cancel", "cancel ID\n\nCancels a task that has not ended; its credits are refunded.", env)
	var conn connFlags
	conn.register(fs)
	id, c, err := taskArgs(fs, &conn, args, env)
	if err != nil {
		return err
	}
	t, _, err := c.Cancel(ctx, id)
	if err != nil {
		return fmt.Errorf("cancel %s: %w", id, err)
	}
	fmt.Fprintf(env.Stdout, "task %s %s; %d credits refunded\n", t.ID, t.Status, t.Cost)
	return nil
}

func runCredits(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("credits", "credits [--json]\n\nShows your credit balance.", env)
	var conn connFlags
	conn.register(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON")
	c, err := noArgs(fs, &conn, args, env)
	if err != nil {
		return err
	}
	balance, raw, err := c.Credits(ctx)
	if err != nil {
		return fmt.Errorf("credits: %w", err)
	}
	if *asJSON {
		fmt.Fprintln(env.Stdout, rawJSON(raw))
		return nil
	}
	fmt.Fprintf(env.Stdout, "%d credits\n", balance)
	return nil
}

// printTask writes a person's summary of a task.
func printTask(w io.Writer, t *Task) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\n", t.ID)
	fmt.Fprintf(tw, "type\t%s\n", t.Type)
	fmt.Fprintf(tw, "status\t%s (%d%%, %s)\n", t.Status, t.Progress, t.Step)
	if t.Error != nil {
		fmt.Fprintf(tw, "error\t%s: %s\n", t.Error.Code, t.Error.Message)
	}
	fmt.Fprintf(tw, "cost\t%d credits\n", t.Cost)
	fmt.Fprintf(tw, "created\t%s\n", t.CreatedAt.Local().Format(time.DateTime))
	if t.FinishedAt != nil {
		fmt.Fprintf(tw, "finished\t%s\n", t.FinishedAt.Local().Format(time.DateTime))
	}
	_ = tw.Flush()
	if len(t.Assets) > 0 {
		fmt.Fprintln(w, "results:")
		for _, a := range t.Assets {
			fmt.Fprintf(w, "  %s  %s  %s  %s\n", a.ID, a.Mime, dims(a), a.URL)
		}
	}
	for _, st := range t.Stages {
		if st.Error != nil {
			fmt.Fprintf(w, "part %s failed: %s\n", st.Name, st.Error.Message)
		}
	}
	if len(t.Notes) > 0 {
		fmt.Fprintln(w, "notes:")
		for _, n := range t.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}
