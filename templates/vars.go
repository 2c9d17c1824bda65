package templates

import (
	"slices"
	"text/template/parse"
)

// referencedVars lists the top-level variables a template refers to: every
// {{.Name}} evaluated with the root data as dot, and every {{$.Name}}. Render
// checks them all before executing, so a variable used only in a branch not
// taken today (the Link of an in-person reminder) is still required: the
// same vars must always be valid, whatever the data.
func referencedVars(tree *parse.Tree) []string {
	if tree == nil || tree.Root == nil {
		return nil
	}
	seen := map[string]bool{}
	walkVars(tree.Root, true, seen)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// walkVars records variables under n. rootDot tells whether dot is still
// the data passed to Execute (inside range and with bodies it is not).
func walkVars(n parse.Node, rootDot bool, seen map[string]bool) {
	switch n := n.(type) {
	case nil:
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkVars(c, rootDot, seen)
		}
	case *parse.ActionNode:
		walkVars(n.Pipe, rootDot, seen)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, d := range n.Decl {
			walkVars(d, rootDot, seen)
		}
		for _, c := range n.Cmds {
			walkVars(c, rootDot, seen)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkVars(a, rootDot, seen)
		}
	case *parse.ChainNode:
		walkVars(n.Node, rootDot, seen)
	case *parse.FieldNode:
		if rootDot && len(n.Ident) > 0 {
			seen[n.Ident[0]] = true
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			seen[n.Ident[1]] = true
		}
	case *parse.IfNode:
		walkVars(n.Pipe, rootDot, seen)
		walkVars(n.List, rootDot, seen)
		walkVars(n.ElseList, rootDot, seen)
	case *parse.WithNode:
		walkVars(n.Pipe, rootDot, seen)
		walkVars(n.List, false, seen)
		walkVars(n.ElseList, rootDot, seen)
	case *parse.RangeNode:
		walkVars(n.Pipe, rootDot, seen)
		walkVars(n.List, false, seen)
		walkVars(n.ElseList, rootDot, seen)
	case *parse.TemplateNode:
		walkVars(n.Pipe, rootDot, seen)
	}
}
