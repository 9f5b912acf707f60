// The pump's page: its switch and speed bound to the set "pump" (pump.c), and Boost,
// which asks first, then calls POST api/pump/boost. A viewer sees values, no controls.
import { Card, ConfirmButton, Page, Slider, Toggle, post } from '../kit';

export const Pump = () => (
  <Page title="Pump" intro="Switch it, set its speed, or run it at full speed for 10 s.">
    <Card>
      <div class="grid gap-4" data-testid="pump">
        <Toggle set="pump" field="on" />
        <Slider set="pump" field="speed" />
        <div>
          <ConfirmButton confirm="Run at full speed for 10 s?" level="operator" onConfirm={() => post('api/pump/boost')}>Boost</ConfirmButton>
        </div>
      </div>
    </Card>
  </Page>
);
