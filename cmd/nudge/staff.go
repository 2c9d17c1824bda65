package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// staffCmd manages console accounts on a running nudge over its API (with
// the API token), like publish and dlq.
type staffCmd struct {
	Add     staffAddCmd     `cmd:"" help:"Create a staff account. The password is read from standard input when it is piped, otherwise generated and printed once."`
	List    staffListCmd    `cmd:"" help:"List staff accounts."`
	Disable staffDisableCmd `cmd:"" help:"Disable an account and end its sessions."`
	Reset   staffResetCmd   `cmd:"" help:"Set a new password (from standard input when piped, otherwise generated and printed once) and end the account's sessions."`
}

type staffEntry struct {
	Email      string    `json:"email"`
	Role       string    `json:"role"`
	Disabled   bool      `json:"disabled"`
	DisabledAt time.Time `json:"disabled_at"`
	CreatedAt  time.Time `json:"created_at"`
	Password   string    `json:"password"`
}

type staffAddCmd struct {
	Email string `arg:"" help:"The person's email address: their login."`
	Role  string `help:"admin (also manages staff, may override the announcement lint) or staff." enum:"admin,staff" required:""`
	apiTarget
}

func (c *staffAddCmd) Run(g *globals) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	pw, err := pipedPassword(os.Stdin)
	if err != nil {
		return err
	}
	var out staffEntry
	if err := cl.send(http.MethodPost, "/v1/staff", map[string]string{"email": c.Email, "role": c.Role, "password": pw}, &out); err != nil {
		return fmt.Errorf("adding %s: %w", c.Email, err)
	}
	fmt.Fprintf(g.stdout, "created %s (%s)\n", out.Email, out.Role)
	printGenerated(g.stdout, out.Password)
	return nil
}

type staffListCmd struct {
	apiTarget
}

func (c *staffListCmd) Run(g *globals) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	var out struct {
		Staff []staffEntry `json:"staff"`
	}
	if err := cl.call(http.MethodGet, "/v1/staff", &out); err != nil {
		return err
	}
	if len(out.Staff) == 0 {
		fmt.Fprintln(g.stdout, "no staff accounts")
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tSTATE\tCREATED")
	for _, s := range out.Staff {
		state := "active"
		if s.Disabled {
			state = "disabled " + s.DisabledAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Email, s.Role, state, s.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

type staffDisableCmd struct {
	Email string `arg:"" help:"The account's email."`
	apiTarget
}

func (c *staffDisableCmd) Run(g *globals) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	var out staffEntry
	if err := cl.call(http.MethodPost, "/v1/staff/"+url.PathEscape(c.Email)+"/disable", &out); err != nil {
		return fmt.Errorf("disabling %s: %w", c.Email, err)
	}
	fmt.Fprintf(g.stdout, "disabled %s; its sessions are ended\n", out.Email)
	return nil
}

type staffResetCmd struct {
	Email string `arg:"" help:"The account's email."`
	apiTarget
}

func (c *staffResetCmd) Run(g *globals) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	pw, err := pipedPassword(os.Stdin)
	if err != nil {
		return err
	}
	var out staffEntry
	if err := cl.send(http.MethodPost, "/v1/staff/"+url.PathEscape(c.Email)+"/reset-password", map[string]string{"password": pw}, &out); err != nil {
		return fmt.Errorf("resetting %s: %w", c.Email, err)
	}
	fmt.Fprintf(g.stdout, "new password set for %s; its sessions are ended\n", out.Email)
	printGenerated(g.stdout, out.Password)
	return nil
}

// pipedPassword reads the first line of standard input when it is a pipe
// or a file; from a terminal (or nothing at all) it returns "" and the
// server generates one.
func pipedPassword(stdin *os.File) (string, error) {
	fi, err := stdin.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice != 0 {
		return "", nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func printGenerated(w io.Writer, password string) {
	if password == "" {
		return
	}
	fmt.Fprintf(w, "password: %s\n(shown once: hand it over now; `nudge staff reset` makes a new one)\n", password)
}
