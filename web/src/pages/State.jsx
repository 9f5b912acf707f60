// Every field set the device declares, each a card from its schema (what the user
// only reads as live values): a set added in C shows up here with no page written for it.
import { Card, Page, SchemaForm, useSchemas } from '../kit';

export function State() {
  const schemas = useSchemas();
  return (
    <Page title="State" intro="Every field set of the device, live. Switches apply at once; a form of several fields has a Save button.">
      <div class="grid items-start gap-6 xl:grid-cols-2" data-testid="state">
        {schemas
          ? schemas.map((s) => <SchemaForm key={s.name} set={s.name} title={s.title || s.name} />)
          : <Card><div class="h-24 animate-pulse rounded bg-slate-100 dark:bg-slate-800" aria-label="Loading" /></Card>}
      </div>
    </Page>
  );
}
