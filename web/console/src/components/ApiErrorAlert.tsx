// Shows an error as the API words it (ApiError.message is the body's error.message).
import { useEffect, useRef } from 'preact/hooks';
import { ApiError, errorMessage } from '../errors';

export function ApiErrorAlert({ error, focus = false }: { error: unknown; focus?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (error && focus) ref.current?.focus();
  }, [error, focus]);
  if (!error) return null;
  const reqId = error instanceof ApiError && error.requestId ? error.requestId : '';
  // The alert holds exactly the API's message (tests compare it); the request id to quote in a
  // report sits beside it.
  return (
    <div class="api-error-box">
      <div role="alert" class="api-error" tabIndex={-1} ref={ref}>
        {errorMessage(error)}
      </div>
      {reqId ? <p class="request-id">Request id {reqId}</p> : null}
    </div>
  );
}
