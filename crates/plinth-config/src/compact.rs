//! Parsed templates, shrunk to fit: a parser grows its vectors as it goes (a template's parts
//! to a capacity of four, a reference's steps likewise), and a configuration keeps every
//! template for the whole run. At 100,000 resources with 180,000 references the spare
//! capacity was a quarter of the configuration's memory.

use plinth_expr::{Expr, ExprKind, Part, RefStep, Reference, Template};

/// Shrinks every vector of `t`, at any depth, to its length.
pub(crate) fn template(t: &mut Template) {
    t.parts.shrink_to_fit();
    for p in &mut t.parts {
        match p {
            Part::Lit(s) => s.shrink_to_fit(),
            Part::Interp(e) => expr(e),
            Part::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                expr(cond);
                template(then);
                if let Some(o) = otherwise {
                    template(o);
                }
            }
            Part::For {
                collection, body, ..
            } => {
                expr(collection);
                template(body);
            }
        }
    }
}

fn expr(e: &mut Expr) {
    match &mut e.kind {
        ExprKind::Literal(_) => {}
        ExprKind::Template(t) => template(t),
        ExprKind::List(items) => exprs(items),
        ExprKind::Object(entries) => {
            entries.shrink_to_fit();
            for (k, v) in entries {
                expr(k);
                expr(v);
            }
        }
        ExprKind::Ref(r) => reference(r),
        ExprKind::Call { args, .. } => exprs(args),
        ExprKind::Unary { operand, .. } => expr(operand),
        ExprKind::Binary { lhs, rhs, .. } => {
            expr(lhs);
            expr(rhs);
        }
        ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => {
            expr(cond);
            expr(then);
            expr(otherwise);
        }
        ExprKind::Postfix { target, steps } | ExprKind::Splat { target, steps, .. } => {
            expr(target);
            ref_steps(steps);
        }
        ExprKind::For(f) => {
            expr(&mut f.collection);
            expr(&mut f.value);
            for e in [&mut f.key, &mut f.cond].into_iter().flatten() {
                expr(e);
            }
        }
    }
}

fn exprs(items: &mut Vec<Expr>) {
    items.shrink_to_fit();
    items.iter_mut().for_each(expr);
}

fn reference(r: &mut Reference) {
    r.root.shrink_to_fit();
    ref_steps(&mut r.steps);
}

fn ref_steps(steps: &mut Vec<RefStep>) {
    steps.shrink_to_fit();
    for s in steps {
        match s {
            RefStep::Attr { name, .. } => name.shrink_to_fit(),
            RefStep::Index(e) => expr(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinking_keeps_the_template_and_drops_spare_capacity() {
        let text = "${a.b.c}/x%{ if var.on }${[for s in var.l : s.id][0]}%{ else }${f(x.y, {k = z.w})}%{ endif }";
        let parsed = plinth_expr::parse_template(text).expect("parses");
        let mut t = parsed.clone();
        template(&mut t);
        assert_eq!(t, parsed);
        assert_eq!(t.parts.capacity(), t.parts.len());
        let Some(Part::Interp(Expr {
            kind: ExprKind::Ref(r),
            ..
        })) = t.parts.first()
        else {
            panic!("a reference first: {t:?}");
        };
        assert_eq!(r.steps.len(), 2);
        assert_eq!(r.steps.capacity(), r.steps.len());
    }
}
