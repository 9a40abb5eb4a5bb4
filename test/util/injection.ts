/**
 * Tests that check a pod template before sidecar injection: the injector is replaced by an identity in each test, and
 * the real one comes back where a test asks for it. The test file declares the module mock (jest hoists it):
 *
 *   jest.mock('../src/sidecar/inject', () => require('./util/injection').mockedInjectModule());
 *   const { spy, useRealInjection } = identityInjection();
 */
// types only: the factory below runs while jest builds the mock, before this module could import it
import type * as inject from '../../src/sidecar/inject';

/** The inject module with injectPodTemplate as a jest.fn around the real one (jest.mock, not spyOn: swc's exports are read-only). */
export function mockedInjectModule(): typeof inject {
  const actual = jest.requireActual<typeof inject>('../../src/sidecar/inject');
  return { __esModule: true, ...actual, injectPodTemplate: jest.fn(actual.injectPodTemplate) } as typeof inject;
}

/** An identity injection before each test, the real one after it; `useRealInjection` brings it back inside a test. */
export function identityInjection(): { spy: jest.MockedFunction<typeof inject.injectPodTemplate>; useRealInjection: () => void } {
  const spy = jest.mocked(jest.requireMock<typeof inject>('../../src/sidecar/inject').injectPodTemplate);
  if (!jest.isMockFunction(spy)) {
    throw new Error("identityInjection: declare jest.mock('../src/sidecar/inject', () => require('./util/injection').mockedInjectModule()) in the test file");
  }
  const real = jest.requireActual<typeof inject>('../../src/sidecar/inject').injectPodTemplate;
  const useRealInjection = () => {
    spy.mockImplementation(real);
  };
  beforeEach(() => {
    spy.mockImplementation((t: any) => JSON.parse(JSON.stringify(t)));
  });
  afterEach(useRealInjection);
  return { spy, useRealInjection };
}
