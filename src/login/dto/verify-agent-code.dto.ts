import { SubjectIdField } from '../../common/http/subject-id.decorator';
import { LoginCodeField } from '../../two-factor/http/config-fields';

export class VerifyAgentCodeRequest {
  @SubjectIdField({ description: 'The agent logging in', example: 'agent-007' })
  agentid!: string;

  @LoginCodeField()
  code!: string;
}
