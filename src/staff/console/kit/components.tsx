import type { Child, FC } from 'hono/jsx';
import type { Page } from './context';

/*
 * The console's building blocks. Each draws one thing the same way on every page, so a new page is
 * mostly its own content: cards, tables, form fields with their problems, post buttons, the pager.
 */

/** The session's form token, in every form that posts. */
export const CsrfField: FC<{ page: Page }> = ({ page }) => <input type="hidden" name="_csrf" value={page.csrfToken} />;

/** A white panel; `title` is its heading. */
export const Card: FC<{ title?: Child; children?: Child }> = ({ title, children }) => (
  <div class="card">
    {title ? <h2 style="margin-top:0">{title}</h2> : null}
    {children}
  </div>
);

/** A problem with one field of a form, already in the staff member's language. */
export interface Problem {
  field: string;
  text: string;
}

/** Under a field: what is wrong with it. */
export const FieldErrors: FC<{ problems?: readonly Problem[]; field: string }> = ({ problems, field }) => {
  const mine = problems?.filter((p) => p.field === field) ?? [];
  return mine.length > 0 ? (
    <div style="color:var(--bad);font-size:.85rem;margin-top:2px">
      {mine.map((p) => (
        <div>{p.text}</div>
      ))}
    </div>
  ) : null;
};

/**
 * A labelled field: the label (for the control with `id`), the control itself, an optional hint and what
 * is wrong with the field named `field` (by default the id).
 */
export const FormField: FC<{ label: Child; id: string; field?: string; hint?: Child; problems?: readonly Problem[]; children?: Child }> = ({ label, id, field, hint, problems, children }) => (
  <div>
    <label for={id}>{label}</label>
    {children}
    {hint ? (
      <div class="muted" style="font-size:.85rem">
        {hint}
      </div>
    ) : null}
    <FieldErrors problems={problems} field={field ?? id} />
  </div>
);

/** A checkbox with its words on one line. */
export const CheckboxField: FC<{ name: string; checked: boolean; label: Child; value?: string }> = ({ name, checked, label, value }) => (
  <label style="color:var(--ink)">
    <input type="checkbox" name={name} value={value ?? '1'} checked={checked} /> {label}
  </label>
);

/** A button that posts (a form of its own, with the form token and `hidden` fields); `confirm` asks first. */
export const PostButton: FC<{ page: Page; action: string; label: Child; hidden?: Record<string, string>; variant?: 'primary' | 'secondary' | 'danger'; small?: boolean; confirm?: string; before?: Child }> = ({
  page,
  action,
  label,
  hidden,
  variant,
  small,
  confirm,
  before,
}) => (
  <form class="inline" method="post" action={action} onsubmit={confirm ? `return confirm(${JSON.stringify(confirm)})` : undefined}>
    <CsrfField page={page} />
    {Object.entries(hidden ?? {}).map(([name, value]) => (
      <input type="hidden" name={name} value={value} />
    ))}
    {before}
    <button type="submit" class={variant === 'primary' ? undefined : (variant ?? 'secondary')} style={small ? 'padding:3px 10px;font-size:.85rem' : undefined}>
      {label}
    </button>
  </form>
);

/**
 * A form folded under a one-line summary: the console's way of keeping edit and add forms out of the way
 * until wanted. It opens by itself when a refused post sends the form back with its problems.
 */
export const FoldedForm: FC<{ page: Page; summary: Child; action: string; submit: string; open?: boolean; children?: Child }> = ({ page, summary, action, submit, open, children }) => (
  <details open={open}>
    <summary>{summary}</summary>
    <form method="post" action={action}>
      <CsrfField page={page} />
      {children}
      <SubmitButton label={submit} />
    </form>
  </details>
);

/** One column of a DataTable: its header (none for a table without a header row) and its cell. */
export interface Column<T> {
  label?: Child;
  cell: (row: T) => Child;
  /** Style of this column's cells. */
  style?: string;
  class?: string;
}

/** A group of rows under a full-width heading (a week's days). */
export interface TableSection<T> {
  heading?: Child;
  rows: readonly T[];
}

/**
 * A table of records: one row each, cells drawn by the columns, scrolling sideways on a narrow screen.
 * `empty` is said instead when there are no rows; `below` adds a full-width row under a row (an edit form
 * folded under it); `sections` groups the rows under headings instead of `rows`.
 */
export function DataTable<T>(props: { columns: readonly Column<T>[]; rows?: readonly T[]; sections?: readonly TableSection<T>[]; empty?: Child; below?: (row: T) => Child; scroll?: boolean }) {
  const { columns, below } = props;
  const sections = props.sections ?? [{ rows: props.rows ?? [] }];
  if (props.empty !== undefined && sections.every((s) => s.rows.length === 0)) return <p class="muted">{props.empty}</p>;
  const table = (
    <table>
      {columns.some((col) => col.label !== undefined) ? (
        <thead>
          <tr>
            {columns.map((col) => (
              <th>{col.label ?? ''}</th>
            ))}
          </tr>
        </thead>
      ) : null}
      <tbody>
        {sections.map((section) => (
          <>
            {section.heading ? (
              <tr>
                <th colspan={columns.length} style="background:#f0f3f7;color:var(--ink)">
                  {section.heading}
                </th>
              </tr>
            ) : null}
            {section.rows.map((row) => {
              const extra = below?.(row);
              return (
                <>
                  <tr>
                    {columns.map((col) => (
                      <td style={col.style} class={col.class}>
                        {col.cell(row)}
                      </td>
                    ))}
                  </tr>
                  {extra ? (
                    <tr>
                      <td colspan={columns.length}>{extra}</td>
                    </tr>
                  ) : null}
                </>
              );
            })}
          </>
        ))}
      </tbody>
    </table>
  );
  return props.scroll === false ? table : <div style="overflow-x:auto">{table}</div>;
}

/** A folded form's summary, where it posts, whether it opens (a refused post), and its fields. */
export interface FoldedEdit {
  summary: Child;
  action: string;
  open: boolean;
  fields: Child;
}

/**
 * Records with their edit forms: a DataTable whose rows each have a folded edit form under them (saved
 * with "Save"), and a folded form to add one (its summary is its button). Without `edit` and `add` (a
 * staff member who may only read), just the table.
 */
export function EditableTable<T>(props: { page: Page; columns: readonly Column<T>[]; rows: readonly T[]; empty?: Child; edit?: ((row: T) => FoldedEdit) | null; add?: (FoldedEdit & { summary: string }) | null }) {
  const { page, edit, add } = props;
  return (
    <>
      <DataTable
        columns={props.columns}
        rows={props.rows}
        empty={props.empty}
        below={
          edit
            ? (row) => {
                const e = edit(row);
                return (
                  <FoldedForm page={page} open={e.open} summary={e.summary} action={e.action} submit={page.t('common.save')}>
                    {e.fields}
                  </FoldedForm>
                );
              }
            : undefined
        }
      />
      {add ? (
        <FoldedForm page={page} open={add.open} summary={add.summary} action={add.action} submit={add.summary}>
          {add.fields}
        </FoldedForm>
      ) : null}
    </>
  );
}

/** Label and value, one pair a row: a record's details. */
export const FactsTable: FC<{ facts: readonly (readonly [Child, Child] | null)[]; labelWidth?: string }> = ({ facts, labelWidth }) => (
  <table>
    <tbody>
      {facts.map((fact) =>
        fact ? (
          <tr>
            <th style={labelWidth ? `width:${labelWidth}` : undefined}>{fact[0]}</th>
            <td>{fact[1]}</td>
          </tr>
        ) : null,
      )}
    </tbody>
  </table>
);

/** A search box that sends `name` by GET to `action`, keeping `hidden` fields; `clear` links back to the unfiltered list. */
export const SearchForm: FC<{ action: string; name: string; value: string; placeholder: string; button: string; label?: string; id?: string; hidden?: Record<string, string>; clear?: { href: string; label: string } | null; autofocus?: boolean; secondary?: boolean }> = (
  props,
) => (
  <form class="toolbar" method="get" action={props.action} role="search">
    {Object.entries(props.hidden ?? {}).map(([name, value]) => (
      <input type="hidden" name={name} value={value} />
    ))}
    {props.label ? (
      <label for={props.id} style="margin:0">
        {props.label}
      </label>
    ) : null}
    <input id={props.id} type="search" name={props.name} value={props.value} placeholder={props.placeholder} aria-label={props.label ? undefined : props.placeholder} autofocus={props.autofocus} />
    <button type="submit" class={props.secondary ? 'secondary' : undefined}>
      {props.button}
    </button>
    {props.clear ? (
      <a class="button secondary" href={props.clear.href}>
        {props.clear.label}
      </a>
    ) : null}
  </form>
);

/** Previous / next links under a paged list; `base` is the list's address with its query. */
export const Pager: FC<{ page: Page; base: string; current: number; hasNext: boolean }> = ({ page, base, current, hasNext }) => {
  const sep = base.includes('?') ? '&' : '?';
  return current > 1 || hasNext ? (
    <p class="toolbar">
      {current > 1 ? (
        <a class="button secondary" href={current === 2 ? base : `${base}${sep}page=${current - 1}`}>
          {page.t('common.previous')}
        </a>
      ) : null}
      <span class="muted">{page.t('common.page', { page: current })}</span>
      {hasNext ? (
        <a class="button secondary" href={`${base}${sep}page=${current + 1}`}>
          {page.t('common.next')}
        </a>
      ) : null}
    </p>
  ) : null;
};

/** Links and buttons above a page's content. */
export const Toolbar: FC<{ children?: Child }> = ({ children }) => <div class="toolbar">{children}</div>;

/** A link drawn as a button; `secondary` for everything but the page's main action. */
export const ButtonLink: FC<{ href: string; secondary?: boolean; children?: Child }> = ({ href, secondary, children }) => (
  <a class={secondary ? 'button secondary' : 'button'} href={href}>
    {children}
  </a>
);

/** A form's button, with a link to leave without saving when `cancel` is given. */
export const SubmitButton: FC<{ label: Child; variant?: 'primary' | 'secondary' | 'danger'; cancel?: { href: string; label: Child } }> = ({ label, variant, cancel }) => (
  <p class={cancel ? 'toolbar' : undefined} style={cancel ? 'margin-top:16px' : undefined}>
    <button type="submit" class={variant === 'primary' ? undefined : variant}>
      {label}
    </button>
    {cancel ? (
      <ButtonLink secondary href={cancel.href}>
        {cancel.label}
      </ButtonLink>
    ) : null}
  </p>
);

/**
 * Above one record's page: back to where it is listed, the record's entries in the audit log (for those
 * who may read it), and any further links or buttons.
 */
export const RecordToolbar: FC<{ page: Page; back: { href: string; label: Child }; audit?: { entity: string; id: string; label: Child }; children?: Child }> = ({ page, back, audit, children }) => (
  <div class="toolbar">
    <ButtonLink secondary href={back.href}>
      {back.label}
    </ButtonLink>
    {audit && page.can('audit.read') ? (
      <ButtonLink secondary href={`/console/audit?entity=${encodeURIComponent(audit.entity)}&entityId=${encodeURIComponent(audit.id)}`}>
        {audit.label}
      </ButtonLink>
    ) : null}
    {children}
  </div>
);

/** The page for a record that does not exist, or that the staff member may not see (404). */
export function notFoundPage(page: Page, args: { title: string; text: string; back: { href: string; label: string } }): Response | Promise<Response> {
  return page.render(
    { title: args.title, flash: { text: args.text, error: true }, status: 404 },
    <p>
      <a href={args.back.href}>{args.back.label}</a>
    </p>,
  );
}
